import Foundation
import Logging
import PostgresNIO

/// Remembers the outcome of money-moving requests by the caller's `Idempotency-Key`, with Stripe's semantics:
/// the same key and the same request replay the first response; the same key with a different request is
/// refused; a duplicate that arrives while the first still runs is told so.
///
/// A key is claimed in its own short transaction before the work starts, so a concurrent duplicate sees the
/// claim at once. Only successful responses are stored; when the work fails the claim is released and a retry
/// runs it again, which is safe because every effect below is idempotent on its own key too. Claims of a
/// request that died expire after `lease`. Keys are kept (at least 24 hours; nothing purges them yet).
public struct IdempotencyStore: Sendable {
    /// Who owns a key: keys of different callers never collide.
    public struct Owner: Sendable, Hashable {
        public let licenseeID: UUID
        public let principalID: UUID
        public let key: String

        public init(licenseeID: UUID, principalID: UUID, key: String) {
            self.licenseeID = licenseeID
            self.principalID = principalID
            self.key = key
        }
    }

    /// A stored response, replayed byte for byte.
    public struct StoredResponse: Sendable, Equatable {
        public let status: Int
        public let contentType: String
        public let body: [UInt8]

        public init(status: Int, contentType: String, body: [UInt8]) {
            self.status = status
            self.contentType = contentType
            self.body = body
        }
    }

    public enum Claim: Sendable, Equatable {
        /// The caller holds the key now: do the work, then `complete` or `release`.
        case proceed
        /// The key finished before with this response.
        case replay(StoredResponse)
        /// The first request with this key is still running.
        case inProgress
        /// The key was used for a different request.
        case mismatch
    }

    /// The longest a key stays in use by a request nobody hears from again.
    public static let defaultLease: Duration = .seconds(60)

    let database: Database
    let lease: Duration
    let now: @Sendable () -> Date

    public init(database: Database, lease: Duration = defaultLease, now: @escaping @Sendable () -> Date = Date.init) {
        self.database = database
        self.lease = lease
        self.now = now
    }

    /// Claims `owner`'s key for a request whose method, path and body hash to `fingerprint`.
    public func claim(_ owner: Owner, fingerprint: [UInt8], logger: Logger) async throws -> Claim {
        let now = now()
        let lockedUntil = now.adding(lease)
        return try await database.withTransaction(.licensee(owner.licenseeID), logger: logger) { connection in
            // Inserts a new claim, or takes over the expired claim of a request that died with the same body.
            let claimed = try await connection.query(
                """
                INSERT INTO idempotency_keys (licensee_id, principal_id, key, fingerprint, locked_until, created_at)
                VALUES (\(owner.licenseeID), \(owner.principalID), \(owner.key), \(Data(fingerprint)), \(lockedUntil), \(now))
                ON CONFLICT (licensee_id, principal_id, key) DO UPDATE SET locked_until = EXCLUDED.locked_until
                WHERE idempotency_keys.completed_at IS NULL AND idempotency_keys.locked_until < \(now)
                  AND idempotency_keys.fingerprint = EXCLUDED.fingerprint
                RETURNING 1
                """,
                logger: logger
            ).collect()
            if !claimed.isEmpty { return .proceed }

            let rows = try await connection.query(
                """
                SELECT fingerprint, response_status, response_content_type, response_body
                FROM idempotency_keys
                WHERE licensee_id = \(owner.licenseeID) AND principal_id = \(owner.principalID) AND key = \(owner.key)
                """,
                logger: logger
            ).collect()
            guard let row = rows.first else { return .inProgress }
            let (stored, status, contentType, body) = try row.decode((Data, Int?, String?, Data?).self)
            guard stored == Data(fingerprint) else { return .mismatch }
            guard let status, let contentType, let body else { return .inProgress }
            return .replay(StoredResponse(status: status, contentType: contentType, body: Array(body)))
        }
    }

    /// Stores the response of a claimed key for every later request with it.
    public func complete(_ owner: Owner, with response: StoredResponse, logger: Logger) async throws {
        try await database.withTransaction(.licensee(owner.licenseeID), logger: logger) { connection in
            try await connection.query(
                """
                UPDATE idempotency_keys
                SET response_status = \(response.status), response_content_type = \(response.contentType),
                    response_body = \(Data(response.body)), completed_at = \(now()), locked_until = NULL
                WHERE licensee_id = \(owner.licenseeID) AND principal_id = \(owner.principalID) AND key = \(owner.key)
                  AND completed_at IS NULL
                """,
                logger: logger)
        }
    }

    /// Gives a claimed key back after the work failed, so that a retry runs it again.
    public func release(_ owner: Owner, logger: Logger) async throws {
        try await database.withTransaction(.licensee(owner.licenseeID), logger: logger) { connection in
            try await connection.query(
                """
                DELETE FROM idempotency_keys
                WHERE licensee_id = \(owner.licenseeID) AND principal_id = \(owner.principalID) AND key = \(owner.key)
                  AND completed_at IS NULL
                """,
                logger: logger)
        }
    }
}
