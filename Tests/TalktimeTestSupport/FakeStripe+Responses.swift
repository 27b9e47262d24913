import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// How the fake reads Stripe's form bodies and writes Stripe's answers.
extension FakeStripe {
    /// A refusal, as a value so it can travel in a `Result`.
    struct Refusal: Error {
        let response: Response
    }

    /// `application/x-www-form-urlencoded` as Stripe reads it (`+` is a space); nil when an escape is malformed.
    static func parseForm(_ body: String) -> [String: String]? {
        var parameters: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2,
                let key = parts[0].replacingOccurrences(of: "+", with: " ").removingPercentEncoding,
                let value = parts[1].replacingOccurrences(of: "+", with: " ").removingPercentEncoding
            else { return nil }
            parameters[key] = value
        }
        return parameters
    }

    /// `metadata[key]=value` pairs, held to Stripe's limits: 50 keys, keys of 1 to 40 characters without
    /// brackets, values up to 500 characters. An empty value unsets a key, so it is not stored.
    static func metadata(from parameters: [String: String]) -> Result<[String: String], Refusal> {
        var metadata: [String: String] = [:]
        for (name, value) in parameters where name.hasPrefix("metadata[") {
            let key = name.dropFirst("metadata[".count)
            guard key.hasSuffix("]") else { return .failure(invalidMetadata("Invalid metadata parameter: \(name)")) }
            let bare = String(key.dropLast())
            guard !bare.isEmpty, bare.count <= 40, !bare.contains("["), !bare.contains("]") else {
                return .failure(invalidMetadata("Metadata keys must be 1 to 40 characters, without square brackets."))
            }
            guard value.count <= 500 else { return .failure(invalidMetadata("Metadata values can have up to 500 characters.")) }
            if !value.isEmpty { metadata[bare] = value }
        }
        guard metadata.count <= 50 else { return .failure(invalidMetadata("Metadata can have up to 50 keys.")) }
        return .success(metadata)
    }

    private static func invalidMetadata(_ message: String) -> Refusal {
        Refusal(response: error(400, type: "invalid_request_error", code: "parameter_invalid_metadata", message: message, param: "metadata"))
    }

    /// Letters and digits, as in Stripe's ids.
    static func randomToken(_ length: Int) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<length).map { _ in alphabet.randomElement()! })
    }

    /// A PaymentIntent as Stripe renders it, with `Idempotent-Replayed: true` on a replay.
    static func json(_ intent: PaymentIntent, replayed: Bool) -> Response {
        var json: [String: Any] = [
            "id": intent.id, "object": "payment_intent", "amount": intent.amount, "currency": intent.currency,
            "client_secret": intent.clientSecret, "status": "requires_payment_method", "metadata": intent.metadata, "livemode": false,
        ]
        if let enabled = intent.automaticPaymentMethods { json["automatic_payment_methods"] = ["enabled": enabled] }
        var headers: HTTPFields = [.contentType: "application/json"]
        if replayed { headers[HTTPField.Name("Idempotent-Replayed")!] = "true" }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: json))))
    }

    /// An injected failure's answer.
    static func error(_ failure: Failure) -> Response {
        var response = error(failure.status, type: "api_error", code: nil, message: "Injected failure.")
        if let retry = failure.shouldRetry { response.headers[HTTPField.Name("Stripe-Should-Retry")!] = retry ? "true" : "false" }
        if let seconds = failure.retryAfter { response.headers[.retryAfter] = String(seconds) }
        return response
    }

    /// Stripe's error body: `{"error": {"type", "code", "message", "param"}}`.
    static func error(_ status: Int, type: String, code: String?, message: String, param: String? = nil) -> Response {
        var detail: [String: Any] = ["type": type, "message": message]
        if let code { detail["code"] = code }
        if let param { detail["param"] = param }
        let body = try! JSONSerialization.data(withJSONObject: ["error": detail])
        return Response(
            status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
