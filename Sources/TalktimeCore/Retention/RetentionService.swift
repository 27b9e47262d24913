import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// Deletes what the service keeps only for a while, so that those tables stop growing with traffic:
///
/// - stored `Idempotency-Key` outcomes, after `idempotencyKeys` (48 hours; Stripe's semantics promise at least 24);
/// - the media service's room events, after `roomEvents` (7 days): they are kept to handle a redelivery once, and
///   LiveKit retries a webhook for minutes, not days.
///
/// Payment events are kept: their inbox is what makes a very late redelivery of a provider's event harmless.
/// Runs in every instance: the deletes are idempotent, in batches, so two instances at once only share the work.
public final class RetentionService: Service, Sendable {
    /// How long each kind of row is kept, how often the service looks, and how many rows a statement deletes.
    public struct Policy: Sendable {
        public var idempotencyKeys: Duration = .seconds(48 * 3600)
        public var roomEvents: Duration = .seconds(7 * 86_400)
        public var interval: Duration = .seconds(3600)
        public var batchSize = 1000

        public init() {}
    }

    /// What one purge deleted.
    public struct Purged: Sendable, Equatable {
        public var idempotencyKeys = 0
        public var roomEvents = 0

        public init(idempotencyKeys: Int = 0, roomEvents: Int = 0) {
            self.idempotencyKeys = idempotencyKeys
            self.roomEvents = roomEvents
        }
    }

    let database: Database
    let clock: any WallClock
    let policy: Policy
    let logger: Logger
    let startsAfter: StartSignal?

    public init(database: Database, clock: any WallClock, policy: Policy = Policy(), logger: Logger, startsAfter: StartSignal? = nil) {
        self.database = database
        self.clock = clock
        self.policy = policy
        self.logger = logger
        self.startsAfter = startsAfter
    }

    public func run() async throws {
        await BackgroundRounds.run(
            startsAfter: startsAfter, clock: clock, logger: logger, failure: "a purge failed; the next one retries it",
            round: {
                let purged = try await purge()
                guard purged != Purged() else { return }
                logger.info(
                    "purged expired rows", metadata: ["idempotency_keys": "\(purged.idempotencyKeys)", "room_events": "\(purged.roomEvents)"])
            },
            nextWake: { clock.now().adding(policy.interval) })
    }

    /// Deletes every row past its time, a batch per statement and transaction (short locks, bounded WAL).
    public func purge() async throws -> Purged {
        let now = clock.now()
        var purged = Purged()
        purged.idempotencyKeys = try await deleteInBatches(
            "idempotency_keys", timeColumn: "created_at", before: now.adding(.zero - policy.idempotencyKeys))
        purged.roomEvents = try await deleteInBatches(
            "call_room_events", timeColumn: "processed_at", before: now.adding(.zero - policy.roomEvents))
        return purged
    }

    private func deleteInBatches(_ table: String, timeColumn: String, before cutoff: Date) async throws -> Int {
        var total = 0
        while true {
            let deleted = try await database.withTransaction(.platform, logger: logger) { connection in
                var binds = PostgresBindings()
                binds.append(cutoff)
                binds.append(policy.batchSize)
                // Names come from this file, never from input; the values are bound.
                let sql = """
                    DELETE FROM \(table) WHERE ctid = ANY (ARRAY(
                        SELECT ctid FROM \(table) WHERE \(timeColumn) < $1 LIMIT $2 FOR UPDATE SKIP LOCKED))
                    RETURNING 1
                    """
                return try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).collect().count
            }
            total += deleted
            if deleted < policy.batchSize { return total }
        }
    }
}
