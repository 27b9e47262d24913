import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO

/// Where rate limit state lives: in this process, or in PostgreSQL for limits shared by every instance.
public protocol RateLimitStore: Sendable {
    /// Counts one request of `key` against `policy` and says whether it may proceed.
    func acquire(_ policy: RateLimitPolicy, key: String, logger: Logger) async throws -> RateLimitDecision
}

/// Per-process limits: fast, but each instance counts on its own.
public final class InMemoryRateLimitStore: RateLimitStore {
    private let buckets = NIOLockedValueBox<[String: Date]>([:])
    private let now: @Sendable () -> Date

    public init(now: @escaping @Sendable () -> Date = Date.init) {
        self.now = now
    }

    public func acquire(_ policy: RateLimitPolicy, key: String, logger: Logger) async throws -> RateLimitDecision {
        let now = now()
        let bucket = policy.name + "|" + key
        return buckets.withLockedValue { buckets in
            if buckets.count > 100_000 {
                // Keys whose TAT has passed carry no state worth keeping.
                buckets = buckets.filter { $0.value > now }
            }
            let (decision, newTAT) = GCRA.decide(policy: policy, storedTAT: buckets[bucket], now: now)
            if let newTAT { buckets[bucket] = newTAT }
            return decision
        }
    }
}

/// Limits shared by every instance: the TAT is a row, locked for the moment of the decision, on the database's
/// clock so that instances with skewed clocks still agree.
public struct PostgresRateLimitStore: RateLimitStore {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func acquire(_ policy: RateLimitPolicy, key: String, logger: Logger) async throws -> RateLimitDecision {
        let bucket = policy.name + "|" + key
        return try await database.withConnection(logger: logger) { connection in
            do {
                return try await connection.withTransaction(logger: logger) { transaction in
                    // The upsert creates the row if needed and locks it either way, returning the stored TAT.
                    let row = try await transaction.query(
                        """
                        INSERT INTO rate_limit_buckets AS b (key, tat, expires_at) VALUES (\(bucket), '-infinity', clock_timestamp())
                        ON CONFLICT (key) DO UPDATE SET key = b.key
                        RETURNING b.tat, clock_timestamp()
                        """,
                        logger: logger
                    ).collect().first!
                    let (stored, now) = try row.decode((Date, Date).self)
                    let (decision, newTAT) = GCRA.decide(policy: policy, storedTAT: stored, now: now)
                    if let newTAT {
                        try await transaction.query(
                            "UPDATE rate_limit_buckets SET tat = \(newTAT), expires_at = \(newTAT) WHERE key = \(bucket)", logger: logger)
                    }
                    return decision
                }
            } catch let error as PostgresTransactionError {
                throw error.closureError ?? error
            }
        }
    }
}
