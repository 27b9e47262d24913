import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// Stripe's API on loopback, for tests: checks what Stripe checks (the secret key, `Stripe-Version`, the form
/// body and its parameters, idempotency keys) and answers as Stripe does, including its error bodies.
///
/// Stricter than Stripe on one point, on purpose: a POST without `Idempotency-Key` is refused, since Talktime
/// must always send one. Tests can make the next requests fail (`failNext`) and read what was created.
public final class FakeStripe: Sendable {
    /// A PaymentIntent as created.
    public struct PaymentIntent: Sendable, Equatable {
        public let id: String
        public let amount: Int64
        public let currency: String
        public let metadata: [String: String]
        public let clientSecret: String
    }

    /// One request as received.
    public struct Received: Sendable {
        public let idempotencyKey: String?
        public let body: String
    }

    private struct State {
        var paymentIntents: [String: PaymentIntent] = [:]
        var idempotency: [String: (parameters: [String: String], intentID: String)] = [:]
        var failures: [(status: Int, shouldRetry: Bool?)] = []
        var received: [Received] = []
    }

    /// Shared by the fake and its route handler.
    private final class Store: Sendable {
        let state = Mutex(State())
        let port = Mutex<Int?>(nil)
        let secretKey = "sk_test_fake_\(UUID().uuidString.replacingOccurrences(of: "-", with: ""))"
    }

    private let store: Store
    public let port: Int

    public var secretKey: String { store.secretKey }
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    private init(store: Store, port: Int) {
        self.store = store
        self.port = port
    }

    /// Every PaymentIntent created, by id.
    public var paymentIntents: [String: PaymentIntent] { store.state.withLock { $0.paymentIntents } }
    /// Every request received, in order.
    public var received: [Received] { store.state.withLock { $0.received } }

    /// The next `count` requests are answered `status` with a Stripe error body, and `Stripe-Should-Retry` when
    /// `shouldRetry` is given.
    public func failNext(_ count: Int, status: Int, shouldRetry: Bool? = nil) {
        store.state.withLock { $0.failures += Array(repeating: (status, shouldRetry), count: count) }
    }

    /// Runs `body` with a fake listening on 127.0.0.1, then stops it.
    public static func run<Result: Sendable>(_ body: @Sendable (FakeStripe) async throws -> Result) async throws -> Result {
        let store = Store()
        let router = Router()
        router.post("/v1/payment_intents") { request, context -> Response in
            var request = request
            let bytes = try await request.collectBody(upTo: 1 << 20)
            return handleCreate(request: request, body: String(buffer: bytes), store: store)
        }
        var logger = Logger(label: "fake-stripe")
        logger.logLevel = .critical
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "fake-stripe"),
            onServerRunning: { channel in store.port.withLock { $0 = channel.localAddress?.port } },
            logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            var port: Int?
            for _ in 0..<500 {
                port = store.port.withLock { $0 }
                if port != nil { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            guard let port else { throw FakeStripeError.didNotStart }
            let fake = FakeStripe(store: store, port: port)
            do {
                let result = try await body(fake)
                group.cancelAll()
                return result
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }

    enum FakeStripeError: Error {
        case didNotStart
    }

    private static func handleCreate(request: Request, body: String, store: Store) -> Response {
        let secretKey = store.secretKey
        let idempotencyKey = request.headers[HTTPField.Name("Idempotency-Key")!]
        store.state.withLock { $0.received.append(Received(idempotencyKey: idempotencyKey, body: body)) }
        guard request.headers[.authorization] == "Bearer \(secretKey)" else {
            return error(401, type: "invalid_request_error", code: nil, message: "Invalid API Key provided.")
        }
        if let failure = store.state.withLock({ $0.failures.isEmpty ? nil : $0.failures.removeFirst() }) {
            var response = error(failure.status, type: "api_error", code: nil, message: "Injected failure.")
            if let retry = failure.shouldRetry { response.headers[HTTPField.Name("Stripe-Should-Retry")!] = retry ? "true" : "false" }
            return response
        }
        guard request.headers[HTTPField.Name("Stripe-Version")!] != nil else {
            return error(400, type: "invalid_request_error", code: "version_missing", message: "Stripe-Version is required here.")
        }
        guard let idempotencyKey, !idempotencyKey.isEmpty else {
            return error(400, type: "invalid_request_error", code: "idempotency_key_missing", message: "Send an Idempotency-Key.")
        }
        guard request.headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true else {
            return error(400, type: "invalid_request_error", code: nil, message: "Invalid request: unsupported Content-Type.")
        }
        guard let parameters = parseForm(body) else {
            return error(400, type: "invalid_request_error", code: "parameter_invalid", message: "The body is not a valid form.")
        }
        guard let amountText = parameters["amount"], let amount = Int64(amountText), amount > 0 else {
            return error(400, type: "invalid_request_error", code: "parameter_invalid_integer", message: "Invalid positive integer", param: "amount")
        }
        guard let currency = parameters["currency"], currency.count == 3, currency.allSatisfy({ $0.isASCII && $0.isLowercase }) else {
            return error(400, type: "invalid_request_error", code: "parameter_invalid_string", message: "Invalid currency", param: "currency")
        }
        var metadata: [String: String] = [:]
        for (key, value) in parameters where key.hasPrefix("metadata[") && key.hasSuffix("]") {
            metadata[String(key.dropFirst("metadata[".count).dropLast())] = value
        }
        let outcome: Result<(PaymentIntent, replayed: Bool), Never>? = store.state.withLock { state in
            if let earlier = state.idempotency[idempotencyKey] {
                guard earlier.parameters == parameters else { return nil }
                return .success((state.paymentIntents[earlier.intentID]!, true))
            }
            let id = "pi_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(24))"
            let intent = PaymentIntent(
                id: id, amount: amount, currency: currency, metadata: metadata, clientSecret: "\(id)_secret_\(UUID().uuidString.prefix(8))")
            state.paymentIntents[id] = intent
            state.idempotency[idempotencyKey] = (parameters, id)
            return .success((intent, false))
        }
        guard case .success(let (intent, replayed)) = outcome else {
            return error(
                400, type: "idempotency_error", code: nil,
                message: "Keys for idempotent requests can only be used with the same parameters they were first used with.")
        }
        let json: [String: Any] = [
            "id": intent.id, "object": "payment_intent", "amount": intent.amount, "currency": intent.currency,
            "client_secret": intent.clientSecret, "status": "requires_payment_method", "metadata": intent.metadata, "livemode": false,
        ]
        var headers: HTTPFields = [.contentType: "application/json"]
        if replayed { headers[HTTPField.Name("Idempotent-Replayed")!] = "true" }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: json))))
    }

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

    private static func error(_ status: Int, type: String, code: String?, message: String, param: String? = nil) -> Response {
        var detail: [String: Any] = ["type": type, "message": message]
        if let code { detail["code"] = code }
        if let param { detail["param"] = param }
        let body = try! JSONSerialization.data(withJSONObject: ["error": detail])
        return Response(
            status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
