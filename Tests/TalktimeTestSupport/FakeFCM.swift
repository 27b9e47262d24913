import CryptoExtras
import Foundation
import Hummingbird
import Synchronization

/// FCM's HTTP v1 API and Google's OAuth token endpoint on loopback, for tests: checks what Google checks and
/// answers as Google does, error bodies included.
///
/// The fake makes its own service account (an RSA key pair) and hands out its key file (`serviceAccountJSON`),
/// whose `token_uri` points at the fake. The token endpoint verifies the RS256 assertion against the account's
/// public key and its claims (`iss`, `scope`, `aud`, `iat`, `exp`), and issues access tokens that expire; sends
/// must carry a live one. Stricter than FCM on purpose: a send must be a data-only message with
/// `android.priority` `HIGH` and a `ttl`, as Talktime always sends, and assertion times must be whole seconds.
/// Tests can unregister or invalidate device tokens, fail the next requests, answer late, and expire tokens.
public final class FakeFCM: Sendable {
    /// A message as accepted.
    public struct Message: Sendable, Equatable {
        public let token: String
        public let data: [String: String]
        public let priority: String
        public let ttl: String
        public let collapseKey: String?
        /// The request body as received.
        public let body: String
    }

    struct Failure {
        let status: Int
        let retryAfter: Int?
    }

    struct State {
        /// Access tokens issued, with when each expires.
        var accessTokens: [String: Date] = [:]
        var exchangeCount = 0
        var sendCount = 0
        var messages: [Message] = []
        var refusals: [String] = []
        var sendFailures: [Failure] = []
        var exchangeFailures: [Failure] = []
        var delays: [Duration] = []
        var unregistered: Set<String> = []
        var invalid: Set<String> = []
        var accessTokenLifetime = 3599
    }

    /// Shared by the fake and its route handlers.
    final class Store: Sendable {
        let state = Mutex(State())
        let port = Mutex<Int>(0)
        let key: _RSA.Signing.PrivateKey
        let privateKeyID = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let projectID = "talktime-fake"
        let clientEmail = "talktime-push@talktime-fake.iam.gserviceaccount.com"
        let now: @Sendable () -> Date

        init(now: @escaping @Sendable () -> Date) throws {
            key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            self.now = now
        }

        var baseURL: String { "http://127.0.0.1:\(port.withLock { $0 })" }
        var tokenURI: String { baseURL + "/token" }
    }

    let store: Store

    init(store: Store) {
        self.store = store
    }

    public var baseURL: String { store.baseURL }
    public var tokenURI: String { store.tokenURI }
    public var projectID: String { store.projectID }
    public var clientEmail: String { store.clientEmail }
    /// The service account's private key, PKCS#8 PEM as Google issues it (for checks that it never leaks).
    public var privateKeyPEM: String { store.key.pkcs8PEMRepresentation }

    /// The service account's key file, as Firebase exports it, pointing at this fake.
    public var serviceAccountJSON: String { serviceAccountJSON() }

    /// The key file with `changes` applied (a nil value removes the field), to build broken ones.
    public func serviceAccountJSON(overriding changes: [String: String?] = [:]) -> String {
        var fields: [String: String] = [
            "type": "service_account", "project_id": store.projectID, "private_key_id": store.privateKeyID,
            "private_key": privateKeyPEM, "client_email": store.clientEmail, "client_id": "100000000000000000001",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": store.tokenURI,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs", "universe_domain": "googleapis.com",
        ]
        for (key, value) in changes { fields[key] = value }
        return String(decoding: try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]), as: UTF8.self)
    }

    /// An RSA private key of another account, PKCS#8 PEM: an assertion signed with it is refused.
    public static func otherPrivateKeyPEM(bits: Int = 2048) throws -> String {
        try _RSA.Signing.PrivateKey(keySize: .init(bitCount: bits)).pkcs8PEMRepresentation
    }

    /// Messages accepted, in order.
    public var messages: [Message] { store.state.withLock { $0.messages } }
    /// Token exchanges answered, successful or not.
    public var exchangeCount: Int { store.state.withLock { $0.exchangeCount } }
    /// Send requests received, whatever the answer.
    public var sendCount: Int { store.state.withLock { $0.sendCount } }
    /// Every access token issued.
    public var issuedAccessTokens: [String] { store.state.withLock { Array($0.accessTokens.keys) } }
    /// Why requests were refused, other than on a test's instruction: should be empty when the client is right.
    public var refusals: [String] { store.state.withLock { $0.refusals } }

    /// How long access tokens issued from now on live (`expires_in`); Google's is 3599 seconds.
    public func setAccessTokenLifetime(seconds: Int) {
        store.state.withLock { $0.accessTokenLifetime = seconds }
    }

    /// Every access token issued so far is expired: sends carrying one are answered 401.
    public func expireAccessTokens() {
        store.state.withLock { state in
            for token in state.accessTokens.keys { state.accessTokens[token] = .distantPast }
        }
    }

    /// Sends to `token` are answered 404 `UNREGISTERED`, as after the app was uninstalled.
    public func unregister(_ token: String) {
        store.state.withLock { _ = $0.unregistered.insert(token) }
    }

    /// Sends to `token` are answered 400 `INVALID_ARGUMENT`, "not a valid FCM registration token".
    public func invalidate(_ token: String) {
        store.state.withLock { _ = $0.invalid.insert(token) }
    }

    /// The next `count` authorized sends are answered `status` with FCM's error body for it (429
    /// `QUOTA_EXCEEDED`, 503 `UNAVAILABLE`, 500 `INTERNAL`, 400 about a data field, 403 `SENDER_ID_MISMATCH`,
    /// 404 without `UNREGISTERED`), with `Retry-After` when given.
    public func failNext(_ count: Int, status: Int, retryAfter: Int? = nil) {
        store.state.withLock { $0.sendFailures += Array(repeating: Failure(status: status, retryAfter: retryAfter), count: count) }
    }

    /// The next `count` token exchanges are answered `status` (400 is `invalid_grant`), with `Retry-After` when given.
    public func failNextExchanges(_ count: Int, status: Int, retryAfter: Int? = nil) {
        store.state.withLock { $0.exchangeFailures += Array(repeating: Failure(status: status, retryAfter: retryAfter), count: count) }
    }

    /// The next `count` sends are answered only after `delay`, to exercise timeouts.
    public func delayNext(_ count: Int, by delay: Duration) {
        store.state.withLock { $0.delays += Array(repeating: delay, count: count) }
    }

    /// Runs `body` with a fake listening on 127.0.0.1 on a free port, then stops it. `now` is the fake's clock
    /// for assertion times and token expiry; share a `TestClock` with the notifier to move both.
    public static func run<Result: Sendable>(
        now: @escaping @Sendable () -> Date = Date.init, _ body: @Sendable (FakeFCM) async throws -> Result
    ) async throws -> Result {
        let store = try Store(now: now)
        let router = Router()
        router.post("/token") { request, context -> Response in
            var request = request
            let bytes = try await request.collectBody(upTo: 1 << 16)
            return store.exchange(request: request, body: String(buffer: bytes))
        }
        router.post("/v1/projects/:project/messages:send") { request, context -> Response in
            var request = request
            let bytes = try await request.collectBody(upTo: 1 << 16)
            let project = context.parameters.get("project") ?? ""
            let (response, delay) = store.send(request: request, project: project, body: String(buffer: bytes))
            if let delay { try await Task.sleep(for: delay) }
            return response
        }
        return try await LoopbackServer.run(router, name: "fake-fcm") { port in
            store.port.withLock { $0 = port }
            return try await body(FakeFCM(store: store))
        }
    }
}
