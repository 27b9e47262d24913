import Crypto
import Foundation
import Hummingbird
import Logging
import TalktimeCore

/// Applies rate limit policies and speaks the IETF httpapi draft's headers:
/// `RateLimit-Policy: "login-ip";q=20;w=60` and `RateLimit: "login-ip";r=19;t=3`, with `Retry-After` on 429.
struct RateLimiter: Sendable {
    let store: any RateLimitStore

    /// Counts one request against each policy with its key; throws a 429 problem when any refuses, otherwise
    /// returns the headers that describe the remaining quota.
    func enforce(_ policies: [(RateLimitPolicy, key: String)], logger: Logger) async throws -> HTTPFields {
        var decisions: [(RateLimitPolicy, RateLimitDecision)] = []
        for (policy, key) in policies {
            decisions.append((policy, try await store.acquire(policy, key: Self.hashed(key), logger: logger)))
        }
        var headers = Self.headers(decisions)
        if let refused = decisions.compactMap({ $0.1.retryAfterSeconds }).max() {
            headers[.retryAfter] = String(refused)
            throw Problem(
                status: .tooManyRequests, type: ProblemType.rateLimited, title: "Too many requests",
                detail: "This request is rate limited; retry after \(refused) seconds.", headers: headers)
        }
        return headers
    }

    static func headers(_ decisions: [(RateLimitPolicy, RateLimitDecision)]) -> HTTPFields {
        guard !decisions.isEmpty else { return [:] }
        let policy = decisions.map { "\"\($0.0.name)\";q=\($0.0.limit);w=\($0.0.window.components.seconds)" }.joined(separator: ", ")
        let state = decisions.map { "\"\($0.0.name)\";r=\($0.1.remaining);t=\($0.1.resetSeconds)" }.joined(separator: ", ")
        return [.rateLimitPolicy: policy, .rateLimit: state]
    }

    /// Keys are stored hashed: the table holds neither addresses nor email addresses.
    static func hashed(_ key: String) -> String {
        SHA256.hash(data: Data(key.utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
    }
}
