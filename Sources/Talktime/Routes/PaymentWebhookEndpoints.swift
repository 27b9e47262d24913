import Foundation
import Hummingbird
import TalktimeCore

/// `POST /v1/webhooks/stripe`: the payment provider's signed events. The signature is checked against the raw
/// body before anything is parsed; a delivery that fails gets 400 and changes nothing. A verified event is
/// applied once (see `PaymentEventProcessor`) and acknowledged with 200, also when it was seen before.
struct PaymentWebhookEndpoints: Sendable {
    /// Checks the signature header over the raw body and decodes the event; throws for anything not genuine.
    typealias VerifyAndDecode = @Sendable (_ body: [UInt8], _ signature: String?) throws -> PaymentEventEnvelope

    let verifyAndDecode: VerifyAndDecode
    let processor: PaymentEventProcessor
    let metrics: WebhookMetrics

    var endpoints: [Endpoint] {
        [
            Endpoint(.post, "/v1/webhooks/stripe") { request, context in
                var request = request
                let body = try await request.collectBody(upTo: context.maxUploadSize)
                let envelope: PaymentEventEnvelope
                do {
                    envelope = try verifyAndDecode(Array(buffer: body), request.headers[.stripeSignature])
                } catch {
                    // Which check failed is logged for the operator, never told to the sender.
                    metrics.count("stripe", outcome: "rejected")
                    context.logger.notice("stripe webhook rejected", metadata: ["reason": "\(String(describing: type(of: error))).\(error)"])
                    throw Problem(
                        status: .badRequest, type: ProblemType.invalidWebhook, title: "Invalid webhook",
                        detail: "The webhook's signature, timestamp or body could not be verified.")
                }
                let outcome = try await processor.process(envelope, logger: context.logger)
                metrics.count("stripe", outcome: outcome.rawValue)
                context.logger.info("stripe webhook processed", metadata: ["outcome": "\(outcome.rawValue)"])
                return try .json(WebhookReceivedDTO())
            }
        ]
    }
}
