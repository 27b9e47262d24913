import Crypto
import Foundation
import Logging
import PostgresNIO

/// Counts failed logins per account, shared by every instance through PostgreSQL: after a few failures each
/// further attempt waits longer, and past the cap (100 an hour) the account takes no more attempts until the
/// window ends. Unknown emails are counted the same way, so the throttle reveals nothing about existence.
public struct LoginThrottle: Sendable {
    public struct Settings: Sendable {
        /// Failures answered without delay.
        public var freeFailures = 3
        /// The first delay; each further failure doubles it, up to `maximumDelay`.
        public var baseDelay: Duration = .milliseconds(250)
        public var maximumDelay: Duration = .seconds(8)
        public var maximumFailuresPerWindow = 100
        public var window: Duration = .seconds(3600)

        public init() {}
    }

    let database: Database
    let settings: Settings

    public init(database: Database, settings: Settings) {
        self.database = database
        self.settings = settings
    }

    /// The key an account's failures are counted under: a hash, so the table holds no email addresses.
    public static func accountKey(licenseeID: UUID?, email: String) -> String {
        let material = (licenseeID?.uuidString.lowercased() ?? "platform") + "\n" + email.lowercased()
        return SHA256.hash(data: Data(material.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Throws `tooManyFailedLogins` when the account is at its cap; otherwise returns how long to wait
    /// before answering this attempt.
    public func admit(accountKey: String, now: Date, logger: Logger) async throws -> Duration {
        let rows = try await database.withConnection(logger: logger) { connection in
            try await connection.query(
                "SELECT failures, window_started_at FROM login_failures WHERE account_key = \(accountKey)", logger: logger
            ).collect()
        }
        guard let (failures, windowStart) = try rows.first?.decode((Int, Date).self) else { return .zero }
        let windowEnd = windowStart.adding(settings.window)
        guard windowEnd > now else { return .zero }
        if failures >= settings.maximumFailuresPerWindow {
            throw IdentityError.tooManyFailedLogins(retryAfterSeconds: max(1, Int(windowEnd.timeIntervalSince(now).rounded(.up))))
        }
        return delay(afterFailures: failures)
    }

    func delay(afterFailures failures: Int) -> Duration {
        guard failures >= settings.freeFailures else { return .zero }
        let doublings = min(failures - settings.freeFailures, 20)
        return min(settings.baseDelay * (1 << doublings), settings.maximumDelay)
    }

    public func recordFailure(accountKey: String, now: Date, logger: Logger) async throws {
        let windowSeconds = Double(settings.window.components.seconds)
        try await database.withConnection(logger: logger) { connection in
            try await connection.query(
                """
                INSERT INTO login_failures AS f (account_key, failures, window_started_at, last_failed_at)
                VALUES (\(accountKey), 1, \(now), \(now))
                ON CONFLICT (account_key) DO UPDATE SET
                    failures = CASE WHEN f.window_started_at <= \(now) - make_interval(secs => \(windowSeconds)) THEN 1 ELSE f.failures + 1 END,
                    window_started_at = CASE WHEN f.window_started_at <= \(now) - make_interval(secs => \(windowSeconds))
                                             THEN \(now) ELSE f.window_started_at END,
                    last_failed_at = \(now)
                """,
                logger: logger
            )
        }
    }

    public func recordSuccess(accountKey: String, logger: Logger) async throws {
        try await database.withConnection(logger: logger) { connection in
            try await connection.query("DELETE FROM login_failures WHERE account_key = \(accountKey)", logger: logger)
        }
    }
}
