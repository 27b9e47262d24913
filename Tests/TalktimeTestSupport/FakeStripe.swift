import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// Stripe's API on loopback, for tests: checks what Stripe checks (the secret key, `Stripe-Version`, the form
/// body and its parameters, idempotency keys) and answers as Stripe does, including its error bodies.
///
/// Stricter than Stripe on two points, on purpose: a POST without `Idempotency-Key` is refused, since Talktime
/// must always send one, and so is a request without `Stripe-Version`, since Talktime pins one. Tests can make
/// the next requests fail (`failNext`) or answer late (`delayNext`), and read what was received and created.
public final class FakeStripe: Sendable {
    /// A PaymentIntent as created.
    public struct PaymentIntent: Sendable, Equatable {
        public let id: String
        public let amount: Int64
        public let currency: String
        public let metadata: [String: String]
        public let clientSecret: String
        /// `automatic_payment_methods[enabled]` as sent, if it was.
        public let automaticPaymentMethods: Bool?
    }

    /// One request as received, whatever the answer.
    public struct Received: Sendable {
        public let idempotencyKey: String?
        /// The raw form body.
        public let body: String
        public let stripeVersion: String?
        public let userAgent: String?
        public let contentType: String?
    }

    /// An injected failure: the answer's status, its `Stripe-Should-Retry` and `Retry-After` headers, and whether
    /// the request was carried out first (a lost answer) or not at all.
    struct Failure {
        let status: Int
        let shouldRetry: Bool?
        let retryAfter: Int?
        let afterProcessing: Bool
    }

    struct State {
        var paymentIntents: [String: PaymentIntent] = [:]
        var idempotency: [String: (parameters: [String: String], intentID: String)] = [:]
        var failures: [Failure] = []
        var delays: [Duration] = []
        var received: [Received] = []
    }

    /// Shared by the fake and its route handler.
    final class Store: Sendable {
        let state = Mutex(State())
        let secretKey = "sk_test_fake_\(UUID().uuidString.replacingOccurrences(of: "-", with: ""))"
    }

    let store: Store
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
    /// How many requests were received, whatever the answer.
    public var requestCount: Int { store.state.withLock { $0.received.count } }

    /// The next `count` authenticated requests are answered `status` with a Stripe error body, with
    /// `Stripe-Should-Retry` and `Retry-After` when given. With `afterProcessing` each request is carried out
    /// first (a PaymentIntent created or replayed) and only its answer is lost, as when Stripe fails late.
    public func failNext(_ count: Int, status: Int, shouldRetry: Bool? = nil, retryAfter: Int? = nil, afterProcessing: Bool = false) {
        let failure = Failure(status: status, shouldRetry: shouldRetry, retryAfter: retryAfter, afterProcessing: afterProcessing)
        store.state.withLock { $0.failures += Array(repeating: failure, count: count) }
    }

    /// The next `count` requests are carried out at once but answered only after `delay`, to exercise timeouts.
    public func delayNext(_ count: Int, by delay: Duration) {
        store.state.withLock { $0.delays += Array(repeating: delay, count: count) }
    }

    /// Runs `body` with a fake listening on 127.0.0.1 on a free port, then stops it.
    public static func run<Result: Sendable>(_ body: @Sendable (FakeStripe) async throws -> Result) async throws -> Result {
        let store = Store()
        let router = Router()
        router.post("/v1/payment_intents") { request, context -> Response in
            var request = request
            let bytes = try await request.collectBody(upTo: 1 << 20)
            let (response, delay) = store.createPaymentIntent(request: request, body: String(buffer: bytes))
            if let delay { try await Task.sleep(for: delay) }
            return response
        }
        return try await LoopbackServer.run(router, name: "fake-stripe") { port in
            try await body(FakeStripe(store: store, port: port))
        }
    }
}
