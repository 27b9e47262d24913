import Foundation
import TalktimeCore
import TalktimeTestSupport
import Testing

@testable import TalktimeIntegrations

@Suite struct StripeEventDecoderTests {
    @Test func decodesEveryTypeTalktimeActsOn() throws {
        let cases: [([UInt8], PaymentEvent)] = [
            (
                StripeEventFixtures.paymentIntentSucceeded(eventID: "evt_1", paymentIntentID: "pi_1", amount: 500),
                .paymentSucceeded(paymentID: "pi_1", amountReceived: 500, currency: "EUR")
            ),
            (
                StripeEventFixtures.paymentIntentFailed(eventID: "evt_2", paymentIntentID: "pi_1"),
                .paymentFailed(paymentID: "pi_1", failureCode: "card_declined")
            ),
            (
                StripeEventFixtures.chargeRefunded(eventID: "evt_3", chargeID: "ch_1", paymentIntentID: "pi_1", amount: 500, amountRefunded: 200),
                .chargeRefunded(chargeID: "ch_1", paymentID: "pi_1", amountRefunded: 200, currency: "EUR")
            ),
            (
                StripeEventFixtures.dispute(
                    eventID: "evt_4", type: "charge.dispute.created", disputeID: "dp_1", chargeID: "ch_1", paymentIntentID: "pi_1", amount: 500,
                    status: "needs_response"),
                .disputeCreated(disputeID: "dp_1", paymentID: "pi_1", amount: 500, currency: "EUR")
            ),
            (
                StripeEventFixtures.dispute(
                    eventID: "evt_5", type: "charge.dispute.closed", disputeID: "dp_1", chargeID: "ch_1", paymentIntentID: "pi_1", amount: 500,
                    status: "won"),
                .disputeClosed(disputeID: "dp_1", paymentID: "pi_1", amount: 500, currency: "EUR", status: "won")
            ),
            (StripeEventFixtures.unknown(eventID: "evt_6"), .ignored(type: "customer.created")),
        ]
        for (body, expected) in cases {
            #expect(try StripeEventDecoder.decode(body).event == expected)
        }
        #expect(try StripeEventDecoder.decode(cases[0].0).id == "evt_1")
    }

    @Test func aKnownTypeWithoutWhatTalktimeNeedsIsAnError() {
        let bodies = [
            #"{"id":"evt_1","type":"payment_intent.succeeded","created":1,"data":{"object":{"id":"pi_1","currency":"eur"}}}"#,
            #"{"id":"evt_1","type":"payment_intent.succeeded","created":1,"data":{"object":{"id":"pi_1","amount_received":-5,"currency":"eur"}}}"#,
            #"{"id":"evt_1","type":"payment_intent.succeeded","created":1,"data":{"object":{"id":"pi_1","amount_received":"5","currency":"eur"}}}"#,
            #"{"id":"evt_1","type":"charge.refunded","created":1,"data":{"object":{"id":"ch_1","amount_refunded":5,"currency":"eur"}}}"#,
            #"{"id":"evt_1","type":"charge.dispute.closed","created":1,"data":{"object":{"id":"dp_1","payment_intent":"pi_1","amount":5,"currency":"eu"}}}"#,
            #"{"id":"","type":"payment_intent.succeeded","created":1,"data":{"object":{}}}"#,
            #"{"type":"payment_intent.succeeded"}"#,
            "not json",
        ]
        for body in bodies {
            #expect(throws: (any Error).self, "\(body)") { try StripeEventDecoder.decode(Array(body.utf8)) }
        }
    }

    @Test func everyAmountMustBeANonNegativeWholeNumber() throws {
        let objects = [
            ("charge.refunded", #""id":"ch_1","payment_intent":"pi_1","currency":"eur","amount_refunded":"#),
            ("charge.dispute.created", #""id":"dp_1","payment_intent":"pi_1","currency":"eur","amount":"#),
            ("charge.dispute.closed", #""id":"dp_1","payment_intent":"pi_1","currency":"eur","status":"won","amount":"#),
            ("payment_intent.succeeded", #""id":"pi_1","currency":"eur","amount_received":"#),
        ]
        for (type, fields) in objects {
            let body = { (amount: String) in Array(#"{"id":"evt_1","type":"\#(type)","created":1,"data":{"object":{\#(fields)\#(amount)}}}"#.utf8) }
            _ = try StripeEventDecoder.decode(body("0"))
            for amount in ["-1", "5.5", "99999999999999999999", "null", "true", #""100""#] {
                #expect(throws: StripeEventDecodingError.self, "\(type) \(amount)") { try StripeEventDecoder.decode(body(amount)) }
            }
        }
    }

    @Test func aPaymentTalktimeCannotPlaceIsAnError() {
        let bodies = [
            #"{"id":"evt_1","type":"charge.refunded","created":1,"data":{"object":{"id":"ch_1","payment_intent":null,"amount_refunded":5,"currency":"eur"}}}"#,
            #"{"id":"evt_1","type":"charge.refunded","created":1,"data":{"object":{"id":"ch_1","payment_intent":"","amount_refunded":5,"currency":"eur"}}}"#,
            #"{"id":"evt_1","type":"payment_intent.payment_failed","created":1,"data":{"object":{"id":""}}}"#,
            #"{"id":"evt_1","type":"charge.dispute.closed","created":1,"data":{"object":{"id":"dp_1","payment_intent":"pi_1","amount":5,"currency":"eur"}}}"#,
            #"{"id":"evt_1","type":"charge.dispute.created","created":1,"data":{"object":{"id":"dp_1","payment_intent":{"id":"pi_1"},"amount":5,"currency":"eur"}}}"#,
            #"{"id":"evt_1","type":"payment_intent.succeeded","created":1,"data":{}}"#,
            #"{"id":"evt_1","type":"payment_intent.succeeded","created":"yesterday","data":{"object":{}}}"#,
        ]
        for body in bodies {
            #expect(throws: StripeEventDecodingError.self, "\(body)") { try StripeEventDecoder.decode(Array(body.utf8)) }
        }
    }

    @Test func theEnvelopeAndOptionalFieldsAreReadAsSent() throws {
        let body =
            #"{"id":"evt_7","type":"payment_intent.payment_failed","created":1767225600,"data":{"object":{"id":"pi_7","last_payment_error":null}}}"#
        let envelope = try StripeEventDecoder.decode(Array(body.utf8))
        #expect(
            envelope
                == PaymentEventEnvelope(
                    id: "evt_7", type: "payment_intent.payment_failed", created: Date(timeIntervalSince1970: 1_767_225_600),
                    event: .paymentFailed(paymentID: "pi_7", failureCode: nil)))
        let usd = StripeEventFixtures.chargeRefunded(
            eventID: "evt_8", chargeID: "ch_8", paymentIntentID: "pi_8", amount: 900, amountRefunded: 900, currency: "usd")
        #expect(
            try StripeEventDecoder.decode(usd).event == .chargeRefunded(chargeID: "ch_8", paymentID: "pi_8", amountRefunded: 900, currency: "USD"))
        let closed = StripeEventFixtures.disputeClosed(
            eventID: "evt_9", disputeID: "dp_9", chargeID: "ch_9", paymentIntentID: "pi_9", amount: 40, status: "lost")
        #expect(
            try StripeEventDecoder.decode(closed).event
                == .disputeClosed(disputeID: "dp_9", paymentID: "pi_9", amount: 40, currency: "EUR", status: "lost"))
    }

    @Test func anUnknownTypeIsIgnoredWhateverItsObjectHolds() throws {
        let body = #"{"id":"evt_9","type":"invoice.paid","created":1,"data":{"object":{"amount":{"weird":true},"status":7}}}"#
        #expect(try StripeEventDecoder.decode(Array(body.utf8)).event == .ignored(type: "invoice.paid"))
    }
}
