import Foundation
import TalktimeCore

/// Reads a verified Stripe event body into the domain's `PaymentEventEnvelope`.
///
/// Only the fields Talktime acts on are read. A known type missing one of them, or with a negative amount, is an
/// error (the webhook answers 400 and Stripe retries, so it shows up); unknown types become `.ignored`.
public enum StripeEventDecoder {
    private struct Envelope: Decodable {
        let id: String
        let type: String
        let created: Int64
    }

    /// Read only for the types Talktime acts on, so an unknown type's object may hold anything.
    private struct Payload: Decodable {
        struct Data: Decodable {
            let object: ObjectFields
        }
        let data: Data
    }

    /// The union of the fields read from PaymentIntents, Charges and Disputes.
    private struct ObjectFields: Decodable {
        struct PaymentError: Decodable {
            let code: String?
        }
        let id: String?
        let amount: Int64?
        let amount_received: Int64?
        let amount_refunded: Int64?
        let currency: String?
        let payment_intent: String?
        let status: String?
        let last_payment_error: PaymentError?
    }

    /// Decodes `body`, which must already have passed `StripeWebhookVerifier`.
    ///
    /// - Throws: `StripeEventDecodingError` for a body that is not an event, or a known type without what it needs.
    public static func decode(_ body: [UInt8]) throws -> PaymentEventEnvelope {
        let envelope: Envelope
        do {
            envelope = try JSONDecoder().decode(Envelope.self, from: Data(body))
        } catch {
            throw StripeEventDecodingError(description: "not a Stripe event")
        }
        guard !envelope.id.isEmpty, envelope.id.utf8.count <= 255 else { throw StripeEventDecodingError(description: "bad event id") }
        let known = [
            "payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded", "charge.dispute.created", "charge.dispute.closed",
        ]
        guard known.contains(envelope.type) else {
            return PaymentEventEnvelope(
                id: envelope.id, type: envelope.type, created: Date(timeIntervalSince1970: TimeInterval(envelope.created)),
                event: .ignored(type: envelope.type))
        }
        let object: ObjectFields
        do {
            object = try JSONDecoder().decode(Payload.self, from: Data(body)).data.object
        } catch {
            throw StripeEventDecodingError(description: "\(envelope.type) whose object could not be read")
        }
        func field<Value>(_ value: Value?, _ name: String) throws -> Value {
            guard let value else { throw StripeEventDecodingError(description: "\(envelope.type) without \(name)") }
            return value
        }
        // An empty or absurdly long id would match nothing, or everything keyed by "": refuse it here.
        func identifier(_ value: String?, _ name: String) throws -> String {
            let value = try field(value, name)
            guard !value.isEmpty, value.utf8.count <= 255 else { throw StripeEventDecodingError(description: "\(envelope.type) with a bad \(name)") }
            return value
        }
        func amount(_ value: Int64?, _ name: String) throws -> Int64 {
            let value = try field(value, name)
            guard value >= 0 else { throw StripeEventDecodingError(description: "\(envelope.type) with a negative \(name)") }
            return value
        }
        func currency() throws -> String {
            let value = try field(object.currency, "currency").uppercased()
            guard value.count == 3, value.allSatisfy({ $0.isASCII && $0.isLetter }) else {
                throw StripeEventDecodingError(description: "\(envelope.type) with a malformed currency")
            }
            return value
        }

        let event: PaymentEvent
        switch envelope.type {
        case "payment_intent.succeeded":
            event = .paymentSucceeded(
                paymentID: try identifier(object.id, "id"), amountReceived: try amount(object.amount_received, "amount_received"),
                currency: try currency())
        case "payment_intent.payment_failed":
            event = .paymentFailed(paymentID: try identifier(object.id, "id"), failureCode: object.last_payment_error?.code)
        case "charge.refunded":
            event = .chargeRefunded(
                chargeID: try identifier(object.id, "id"), paymentID: try identifier(object.payment_intent, "payment_intent"),
                amountRefunded: try amount(object.amount_refunded, "amount_refunded"), currency: try currency())
        case "charge.dispute.created":
            event = .disputeCreated(
                disputeID: try identifier(object.id, "id"), paymentID: try identifier(object.payment_intent, "payment_intent"),
                amount: try amount(object.amount, "amount"), currency: try currency())
        case "charge.dispute.closed":
            event = .disputeClosed(
                disputeID: try identifier(object.id, "id"), paymentID: try identifier(object.payment_intent, "payment_intent"),
                amount: try amount(object.amount, "amount"), currency: try currency(), status: try field(object.status, "status"))
        default:
            event = .ignored(type: envelope.type)
        }
        return PaymentEventEnvelope(
            id: envelope.id, type: envelope.type, created: Date(timeIntervalSince1970: TimeInterval(envelope.created)), event: event)
    }
}
