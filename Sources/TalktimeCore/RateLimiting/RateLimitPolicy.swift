import Foundation

/// "At most `limit` requests per `window`", named for the `RateLimit-Policy` header.
public struct RateLimitPolicy: Sendable, Hashable {
    /// What a policy counts by.
    public enum Key: String, Sendable {
        /// The client's address (proxies trusted only when configured).
        case clientAddress = "ip"
        /// The account named in the request (an email, an account id).
        case account
        /// The signed-in caller (an account or an API key), counted once the request is authenticated.
        case caller = "user"
    }

    public let name: String
    public let limit: Int
    public let window: Duration
    public let key: Key

    public init(name: String, limit: Int, window: Duration, key: Key) {
        precondition(limit > 0 && window > .zero)
        self.name = name
        self.limit = limit
        self.window = window
        self.key = key
    }

    var windowSeconds: Double { Double(window.components.seconds) + Double(window.components.attoseconds) / 1e18 }
    /// GCRA's emission interval: one request's worth of the window.
    var interval: Double { windowSeconds / Double(limit) }
}

/// The outcome of one request against a policy.
public struct RateLimitDecision: Sendable, Equatable {
    public let allowed: Bool
    /// Requests still allowed right now.
    public let remaining: Int
    /// Seconds until the quota is whole again.
    public let resetSeconds: Int
    /// Seconds to wait before retrying; set when refused.
    public let retryAfterSeconds: Int?
}

/// The Generic Cell Rate Algorithm: one "theoretical arrival time" (TAT) per key holds the whole state.
/// A request is allowed when, counted in, the TAT runs no further than one window ahead of now.
enum GCRA {
    /// The decision for a request at `now`, and the TAT to store when it is allowed.
    static func decide(policy: RateLimitPolicy, storedTAT: Date?, now: Date) -> (RateLimitDecision, newTAT: Date?) {
        let tat = max(storedTAT ?? now, now)
        let newTAT = tat.addingTimeInterval(policy.interval)
        let ahead = newTAT.timeIntervalSince(now)
        if ahead <= policy.windowSeconds + 1e-9 {
            let remaining = Int(((policy.windowSeconds - ahead) / policy.interval + 1e-9).rounded(.down))
            return (RateLimitDecision(allowed: true, remaining: remaining, resetSeconds: Int(ahead.rounded(.up)), retryAfterSeconds: nil), newTAT)
        }
        let retryAfter = ahead - policy.windowSeconds
        let reset = tat.timeIntervalSince(now)
        return (
            RateLimitDecision(
                allowed: false, remaining: 0, resetSeconds: Int(reset.rounded(.up)), retryAfterSeconds: max(1, Int(retryAfter.rounded(.up)))),
            nil
        )
    }
}
