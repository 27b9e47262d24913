import Foundation
import Hummingbird
import Logging
import TalktimeCore

/// `POST /v1/webhooks/livekit`: the media service's signed room events. The token in `Authorization` is checked,
/// with the body's hash it carries, before anything is parsed; a delivery that fails gets 401 and changes
/// nothing. A verified event is applied once and acknowledged with 200, also when seen before.
struct CallWebhookEndpoints: Sendable {
    /// Checks the `Authorization` token over the raw body and decodes the event, returning the API key that
    /// signed it; throws for anything not genuine.
    typealias VerifyAndDecode =
        @Sendable (_ body: [UInt8], _ authorization: String?, _ logger: Logger) async throws -> (
            apiKey: String, event: CallRoomEvent
        )

    let verifyAndDecode: VerifyAndDecode
    let processor: CallRoomEventProcessor
    let metrics: WebhookMetrics

    var endpoints: [Endpoint] {
        [
            Endpoint(.post, "/v1/webhooks/livekit") { request, context in
                var request = request
                let body = try await request.collectBody(upTo: context.maxUploadSize)
                let verified: (apiKey: String, event: CallRoomEvent)
                do {
                    verified = try await verifyAndDecode(Array(buffer: body), request.headers[.authorization], context.logger)
                } catch {
                    metrics.count("livekit", outcome: "rejected")
                    context.logger.notice("livekit webhook rejected", metadata: ["reason": "\(String(describing: type(of: error))).\(error)"])
                    throw Problem(
                        status: .unauthorized, type: ProblemType.invalidWebhook, title: "Invalid webhook",
                        detail: "The webhook's token or body could not be verified.")
                }
                let outcome = try await processor.process(verified.event, signedWith: verified.apiKey, logger: context.logger)
                metrics.count("livekit", outcome: outcome.rawValue)
                context.logger.info("livekit webhook processed", metadata: ["outcome": "\(outcome.rawValue)"])
                return try .json(WebhookReceivedDTO())
            }
        ]
    }
}
