import Crypto
import Foundation
import Hummingbird
import Synchronization

/// APNs' provider API on loopback, for VoIP pushes in tests: checks what APNs checks and answers as APNs does,
/// `{"reason": ...}` bodies included.
///
/// The fake makes its own token-signing key (P-256, handed out as the .p8 PEM) with a key ID, team ID and bundle
/// ID. It verifies each request's ES256 provider token (`kid`, `iss`, an `iat` at most an hour old, the
/// signature), the VoIP headers (push type `voip`, topic `<bundle>.voip`, priority 10, an expiration), the hex
/// device token in the path and the JSON payload. Tests can mark device tokens unregistered or bad, fail the
/// next requests, answer late, and expire the provider tokens seen so far. Plain HTTP/1.1, where APNs is HTTP/2.
public final class FakeAPNs: Sendable {
    /// A push as accepted.
    public struct Push: Sendable, Equatable {
        public let deviceToken: String
        public let pushType: String
        public let topic: String
        public let priority: String
        public let expiration: Int
        public let collapseID: String?
        /// The payload's fields other than `aps`, all strings as Talktime sends them.
        public let data: [String: String]
        /// The request body as received.
        public let body: String
        public let providerToken: String
    }

    struct Failure {
        let status: Int
        let reason: String
        let retryAfter: Int?
    }

    struct State {
        var requestCount = 0
        var pushes: [Push] = []
        var refusals: [String] = []
        var failures: [Failure] = []
        var delays: [Duration] = []
        var unregistered: Set<String> = []
        var bad: Set<String> = []
        var expiredProviderTokens: Set<String> = []
        /// Distinct provider tokens accepted, in the order first seen.
        var providerTokens: [String] = []
    }

    /// Shared by the fake and its route handler.
    final class Store: Sendable {
        let state = Mutex(State())
        let port = Mutex<Int>(0)
        let key = P256.Signing.PrivateKey()
        let keyID = FakeAPNs.appleIdentifier()
        let teamID = FakeAPNs.appleIdentifier()
        let bundleID = "com.talktime.fake"
        let now: @Sendable () -> Date

        init(now: @escaping @Sendable () -> Date) {
            self.now = now
        }
    }

    let store: Store

    init(store: Store) {
        self.store = store
    }

    public var baseURL: String { "http://127.0.0.1:\(store.port.withLock { $0 })" }
    public var keyID: String { store.keyID }
    public var teamID: String { store.teamID }
    public var bundleID: String { store.bundleID }
    /// The signing key as Apple issues it (a .p8 file: PKCS#8 PEM).
    public var privateKeyPEM: String { store.key.pemRepresentation }

    /// Pushes accepted, in order.
    public var pushes: [Push] { store.state.withLock { $0.pushes } }
    /// Requests received, whatever the answer.
    public var requestCount: Int { store.state.withLock { $0.requestCount } }
    /// Distinct provider tokens accepted, in the order first seen.
    public var providerTokens: [String] { store.state.withLock { $0.providerTokens } }
    /// Why requests were refused, other than on a test's instruction: should be empty when the client is right.
    public var refusals: [String] { store.state.withLock { $0.refusals } }

    /// Pushes to `token` are answered 410 `Unregistered`.
    public func unregister(_ token: String) {
        store.state.withLock { _ = $0.unregistered.insert(token) }
    }

    /// Pushes to `token` are answered 400 `BadDeviceToken`, as for a sandbox token sent to production.
    public func markBad(_ token: String) {
        store.state.withLock { _ = $0.bad.insert(token) }
    }

    /// Every provider token accepted so far is answered 403 `ExpiredProviderToken` from now on.
    public func expireProviderTokens() {
        store.state.withLock { $0.expiredProviderTokens.formUnion($0.providerTokens) }
    }

    /// The next `count` authorized requests are answered `status` with `reason` (APNs' word for it by default:
    /// 429 `TooManyRequests`, 503 `ServiceUnavailable`, 500 `InternalServerError`), with `Retry-After` when given.
    public func failNext(_ count: Int, status: Int, reason: String? = nil, retryAfter: Int? = nil) {
        let usual: String =
            switch status {
            case 429: "TooManyRequests"
            case 503: "ServiceUnavailable"
            case 500: "InternalServerError"
            default: "BadRequest"
            }
        let failure = Failure(status: status, reason: reason ?? usual, retryAfter: retryAfter)
        store.state.withLock { $0.failures += Array(repeating: failure, count: count) }
    }

    /// The next `count` requests are answered only after `delay`, to exercise timeouts.
    public func delayNext(_ count: Int, by delay: Duration) {
        store.state.withLock { $0.delays += Array(repeating: delay, count: count) }
    }

    /// A random 10-character identifier, as Apple's key and team IDs are.
    static func appleIdentifier() -> String {
        String((0..<10).map { _ in Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789").randomElement()! })
    }

    /// Runs `body` with a fake listening on 127.0.0.1 on a free port, then stops it. `now` is the fake's clock
    /// for provider token ages; share a `TestClock` with the notifier to move both.
    public static func run<Result: Sendable>(
        now: @escaping @Sendable () -> Date = Date.init, _ body: @Sendable (FakeAPNs) async throws -> Result
    ) async throws -> Result {
        let store = Store(now: now)
        let router = Router()
        router.post("/3/device/:token") { request, context -> Response in
            var request = request
            let bytes = try await request.collectBody(upTo: 1 << 16)
            let (response, delay) = store.push(request: request, deviceToken: context.parameters.get("token") ?? "", body: String(buffer: bytes))
            if let delay { try await Task.sleep(for: delay) }
            return response
        }
        return try await LoopbackServer.run(router, name: "fake-apns") { port in
            store.port.withLock { $0 = port }
            return try await body(FakeAPNs(store: store))
        }
    }
}
