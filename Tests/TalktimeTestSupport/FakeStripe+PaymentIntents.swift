import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `POST /v1/payment_intents`, checked in Stripe's order: key, injected failure, headers, parameters, idempotency.
extension FakeStripe.Store {
    /// The parameters this endpoint knows, besides `metadata[...]`: Stripe refuses any other.
    static let knownParameters: Set<String> = ["amount", "currency", "automatic_payment_methods[enabled]"]

    /// Answers one request, and how long to hold the answer back.
    func createPaymentIntent(request: Request, body: String) -> (Response, delay: Duration?) {
        let idempotencyKey = request.headers[HTTPField.Name("Idempotency-Key")!]
        let delay = state.withLock { state -> Duration? in
            state.received.append(
                FakeStripe.Received(
                    idempotencyKey: idempotencyKey, body: body, stripeVersion: request.headers[HTTPField.Name("Stripe-Version")!],
                    userAgent: request.headers[.userAgent], contentType: request.headers[.contentType]))
            return state.delays.isEmpty ? nil : state.delays.removeFirst()
        }
        guard let authorization = request.headers[.authorization] else {
            return (FakeStripe.error(401, type: "invalid_request_error", code: nil, message: "You did not provide an API key."), delay)
        }
        guard authorization == "Bearer \(secretKey)" else {
            // Stripe quotes the last four characters; the fake quotes none, so a leak in a test cannot come from here.
            return (FakeStripe.error(401, type: "invalid_request_error", code: nil, message: "Invalid API Key provided: sk_****"), delay)
        }
        let injected = state.withLock { $0.failures.isEmpty ? nil : $0.failures.removeFirst() }
        if let injected, !injected.afterProcessing { return (FakeStripe.error(injected), delay) }
        let response = process(request: request, body: body, idempotencyKey: idempotencyKey)
        if let injected { return (FakeStripe.error(injected), delay) }
        return (response, delay)
    }

    private func process(request: Request, body: String, idempotencyKey: String?) -> Response {
        guard request.headers[HTTPField.Name("Stripe-Version")!]?.isEmpty == false else {
            return FakeStripe.error(400, type: "invalid_request_error", code: "version_missing", message: "Stripe-Version is required here.")
        }
        guard let idempotencyKey, !idempotencyKey.isEmpty, idempotencyKey.utf8.count <= 255 else {
            return FakeStripe.error(400, type: "invalid_request_error", code: "idempotency_key_missing", message: "Send an Idempotency-Key.")
        }
        guard request.headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true else {
            return FakeStripe.error(400, type: "invalid_request_error", code: nil, message: "Invalid request: unsupported Content-Type.")
        }
        guard let parameters = FakeStripe.parseForm(body) else {
            return FakeStripe.error(400, type: "invalid_request_error", code: "parameter_invalid", message: "The body is not a valid form.")
        }
        if let unknown = parameters.keys.sorted().first(where: { !Self.knownParameters.contains($0) && !$0.hasPrefix("metadata[") }) {
            return FakeStripe.error(
                400, type: "invalid_request_error", code: "parameter_unknown", message: "Received unknown parameter: \(unknown)", param: unknown)
        }
        guard let amountText = parameters["amount"] else {
            return FakeStripe.error(
                400, type: "invalid_request_error", code: "parameter_missing", message: "Missing required param: amount.", param: "amount")
        }
        guard amountText.allSatisfy(\.isASCII), let amount = Int64(amountText), amount > 0 else {
            return FakeStripe.error(
                400, type: "invalid_request_error", code: "parameter_invalid_integer", message: "Invalid positive integer", param: "amount")
        }
        guard let currency = parameters["currency"] else {
            return FakeStripe.error(
                400, type: "invalid_request_error", code: "parameter_missing", message: "Missing required param: currency.", param: "currency")
        }
        guard currency.count == 3, currency.allSatisfy({ $0.isASCII && $0.isLowercase }) else {
            return FakeStripe.error(
                400, type: "invalid_request_error", code: "parameter_invalid_string", message: "Invalid currency", param: "currency")
        }
        var automaticPaymentMethods: Bool?
        if let enabled = parameters["automatic_payment_methods[enabled]"] {
            guard enabled == "true" || enabled == "false" else {
                return FakeStripe.error(
                    400, type: "invalid_request_error", code: nil, message: "Invalid boolean: \(enabled)", param: "automatic_payment_methods[enabled]"
                )
            }
            automaticPaymentMethods = enabled == "true"
        }
        let metadata: [String: String]
        switch FakeStripe.metadata(from: parameters) {
        case .success(let value): metadata = value
        case .failure(let refusal): return refusal.response
        }
        return state.withLock { state in
            if let earlier = state.idempotency[idempotencyKey] {
                guard earlier.parameters == parameters else {
                    return FakeStripe.error(
                        400, type: "idempotency_error", code: nil,
                        message: "Keys for idempotent requests can only be used with the same parameters they were first used with.")
                }
                return FakeStripe.json(state.paymentIntents[earlier.intentID]!, replayed: true)
            }
            let id = "pi_\(FakeStripe.randomToken(24))"
            let intent = FakeStripe.PaymentIntent(
                id: id, amount: amount, currency: currency, metadata: metadata, clientSecret: "\(id)_secret_\(FakeStripe.randomToken(25))",
                automaticPaymentMethods: automaticPaymentMethods)
            state.paymentIntents[id] = intent
            state.idempotency[idempotencyKey] = (parameters, id)
            return FakeStripe.json(intent, replayed: false)
        }
    }
}
