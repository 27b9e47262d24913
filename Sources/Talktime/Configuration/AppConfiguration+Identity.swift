import Foundation
import TalktimeCore
import TalktimeSecurity

/// Identity settings read from the environment: signing keys, token lifetimes, BCrypt, proxies, rate limits.
struct IdentityConfiguration: Sendable {
    enum RateLimitStoreKind: String, Sendable {
        case memory
        case postgres
    }

    /// nil when `JWT_SIGNING_KEY` is unset: `serve` refuses to start without it, `migrate` and `demo` don't need it.
    var accessTokenKeys: AccessTokenKeys?
    var issuer: String
    var audience: String
    var accessTokenLifetime: Duration
    /// How long a server trusts what PostgreSQL said about a token's session without hearing of a change; zero
    /// asks the database at every request.
    var sessionCacheLifetime: Duration
    var settings: IdentitySettings
    var bcryptConcurrency: Int
    var bcryptQueueLimit: Int
    var trustedProxies: [IPNetwork]
    var rateLimitStore: RateLimitStoreKind

    init(values: ConfigurationValues) throws(ConfigurationError) {
        let keyID = try values.optional("jwt.signing.key.id", default: "primary") { $0.isEmpty ? nil : $0 }
        let verificationKeys = try values.optional("jwt.verification.keys", default: [:]) { ConfigurationValues.parseKeyList($0) }
        accessTokenKeys = try values.optional("jwt.signing.key") { text -> AccessTokenKeys? in
            guard let seed = Data(base64Encoded: text) else { return nil }
            return try AccessTokenKeys(signingKeyID: keyID, signingKeySeed: Array(seed), additionalVerificationKeys: verificationKeys)
        }
        issuer = try values.optional("jwt.issuer", default: "talktime") { $0.isEmpty ? nil : $0 }
        audience = try values.optional("jwt.audience", default: "talktime-api") { $0.isEmpty ? nil : $0 }
        accessTokenLifetime = try values.optional("access.token.ttl.seconds", default: .seconds(900)) { Self.seconds($0, 60...86_400) }
        sessionCacheLifetime = try values.optional("session.cache.seconds", default: .seconds(30)) { Self.seconds($0, 0...300) }
        var settings = IdentitySettings()
        settings.refreshIdleLifetime = try values.optional("refresh.token.idle.seconds", default: settings.refreshIdleLifetime) {
            Self.seconds($0, 300...31_536_000)
        }
        settings.refreshAbsoluteLifetime = try values.optional("refresh.token.absolute.seconds", default: settings.refreshAbsoluteLifetime) {
            Self.seconds($0, 300...63_072_000)
        }
        settings.loginThrottle.baseDelay = try values.optional("login.failure.delay.ms", default: settings.loginThrottle.baseDelay) {
            Int($0).flatMap { (0...10_000).contains($0) ? .milliseconds($0) : nil }
        }
        self.settings = settings
        bcryptConcurrency = try values.optional("bcrypt.concurrency", default: ProcessInfo.processInfo.activeProcessorCount) {
            Int($0).flatMap { (1...256).contains($0) ? $0 : nil }
        }
        bcryptQueueLimit = try values.optional("bcrypt.queue.limit", default: 64) { Int($0).flatMap { (0...100_000).contains($0) ? $0 : nil } }
        trustedProxies = try values.optional("trusted.proxies", default: []) { text in
            let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            let networks = parts.compactMap(IPNetwork.init)
            return networks.count == parts.count ? networks : nil
        }
        rateLimitStore = try values.optional("rate.limit.store", default: .memory) { RateLimitStoreKind(rawValue: $0.lowercased()) }
    }

    static func seconds(_ text: String, _ range: ClosedRange<Int>) -> Duration? {
        Int(text).flatMap { range.contains($0) ? .seconds($0) : nil }
    }
}
