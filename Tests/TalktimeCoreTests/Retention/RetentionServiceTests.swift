import Foundation
import PostgresNIO
import TalktimeTestSupport
import Testing

@testable import TalktimeCore

/// The retention service against a real PostgreSQL, as the service's own role: rows past their time go, in
/// batches, and nothing younger does.
@Suite struct RetentionServiceTests {
    let logger = TestPostgres.logger

    @Test func oldIdempotencyKeysAndRoomEventsGoAndRecentOnesStay() async throws {
        try await TestPostgres.withAppDatabase { database in
            let world = try await MoneyFixture.create(in: database)
            let clock = TestClock()
            let now = clock.now()
            // 5 keys and 5 events past their time (49 hours, 8 days), 2 of each still within it.
            let keyAges: [Double] = [49, 50, 72, 100, 1000].map { $0 * 3600 } + [47 * 3600, 60]
            let eventAges: [Double] = [8, 9, 30, 31, 365].map { $0 * 86_400 } + [6 * 86_400, 60]
            try await database.withTransaction(.platform, logger: logger) { connection in
                for (index, age) in keyAges.enumerated() {
                    try await connection.query(
                        """
                        INSERT INTO idempotency_keys (licensee_id, principal_id, key, fingerprint, created_at)
                        VALUES (\(world.licenseeID), \(world.endUserIDs[0]), \("key-\(index)"), '\\x00', \(now.addingTimeInterval(-age)))
                        """, logger: logger)
                }
                for (index, age) in eventAges.enumerated() {
                    try await connection.query(
                        """
                        INSERT INTO call_room_events (id, kind, outcome, created_at, processed_at)
                        VALUES (\("event-\(index)"), 'room_finished', 'ignored', \(now.addingTimeInterval(-age)), \(now.addingTimeInterval(-age)))
                        """, logger: logger)
                }
            }
            var policy = RetentionService.Policy()
            policy.batchSize = 2  // several batches, and a last one that is not full
            let retention = RetentionService(database: database, clock: clock, policy: policy, logger: logger)

            #expect(try await retention.purge() == RetentionService.Purged(idempotencyKeys: 5, roomEvents: 5))
            let left = try await database.withTransaction(.platform, logger: logger) { connection in
                (
                    try await connection.query("SELECT key FROM idempotency_keys ORDER BY key", logger: logger).collect()
                        .map { try $0.decode(String.self) },
                    try await connection.query("SELECT id FROM call_room_events ORDER BY id", logger: logger).collect()
                        .map { try $0.decode(String.self) }
                )
            }
            #expect(left.0 == ["key-5", "key-6"])
            #expect(left.1 == ["event-5", "event-6"])
            // Nothing more to do until time passes.
            #expect(try await retention.purge() == RetentionService.Purged())
        }
    }
}
