import Foundation
import Logging
import PostgresNIO
import TalktimeCore

/// Many calls in progress at once, inserted straight into the database: one Licensee, `count` Advisors and
/// `count` End Users, each End User funded with `balance` and in an active call with one Advisor whose first
/// increment is due at `start`. For tests and benchmarks of the billing engine.
public struct ActiveCallsFixture: Sendable {
    public let licenseeID: UUID
    public let callIDs: [UUID]
    public let callerIDs: [UUID]
    public let advisorIDs: [UUID]
    public let incrementPrice: Int64

    public static func create(
        in database: Database, count: Int, balance: Int64, ratePerMinute: Int64 = 120, incrementSeconds: Int = 60,
        platformFeeBasisPoints: Int = 1000, commissionBasisPoints: Int = 2000, start: Date, slug: String = "calls",
        logger: Logger = TestPostgres.logger
    ) async throws -> ActiveCallsFixture {
        let price = CallPrice(
            currency: "EUR", ratePerMinute: ratePerMinute, incrementSeconds: incrementSeconds, commissionBasisPoints: commissionBasisPoints,
            platformFeeBasisPoints: platformFeeBasisPoints)
        return try await database.withTransaction(.platform, logger: logger) { connection in
            let licenseeID = try await connection.query(
                """
                INSERT INTO licensees (slug, name, app_name, currency, platform_fee_bps, commission_bps, billing_increment_seconds,
                    licence_status, max_concurrent_calls)
                VALUES (\(slug), \(slug), \(slug), 'EUR', \(platformFeeBasisPoints), \(commissionBasisPoints), \(incrementSeconds),
                    'active', 1000000)
                RETURNING id
                """, logger: logger
            ).collect().first!.decode(UUID.self)
            func users(_ role: String) async throws -> [UUID] {
                try await connection.query(
                    """
                    INSERT INTO users (licensee_id, role, email, password_hash, display_name)
                    SELECT \(licenseeID), \(role), \(role) || g || '@' || \(slug) || '.example', 'x', \(role) || ' ' || g
                    FROM generate_series(1, \(count)) g ORDER BY g
                    RETURNING id
                    """, logger: logger
                ).collect().map { try $0.decode(UUID.self) }
            }
            let advisors = try await users("advisor")
            let callers = try await users("end_user")
            try await connection.query(
                """
                INSERT INTO advisor_profiles (user_id, licensee_id, rate_per_minute_minor, approval_status, presence)
                SELECT id, \(licenseeID), \(ratePerMinute), 'approved', 'busy' FROM unnest(\(advisors)::uuid[]) id
                """, logger: logger)
            if balance > 0 {
                let topUps = try callers.map { caller in
                    try Posting(
                        licenseeID: licenseeID, currency: "EUR", kind: .topUp, idempotencyKey: "fixture:\(caller)",
                        legs: [.init(.paymentClearing, -balance), .init(.wallet(of: caller), balance)])
                }
                for chunk in stride(from: 0, to: topUps.count, by: 1000) {
                    _ = try await Ledger.postBatch(Array(topUps[chunk..<min(chunk + 1000, topUps.count)]), on: connection, logger: logger)
                }
            }
            // Made as the service makes them (time-ordered, migration 0016), in the order of the callers.
            let callIDs = try await connection.query(
                "SELECT talktime_time_ordered_uuid() FROM generate_series(1, \(count)) g ORDER BY g", logger: logger
            ).collect().map { try $0.decode(UUID.self) }
            try await connection.query(
                """
                INSERT INTO calls (id, licensee_id, caller_id, advisor_id, status, room_name, currency, rate_per_minute_minor,
                    increment_seconds, increment_price_minor, commission_bps, platform_fee_bps, created_at, ring_deadline, answered_at,
                    paid_until)
                SELECT c.id, \(licenseeID), c.caller, c.advisor, 'active', 'call-' || c.id, 'EUR', \(ratePerMinute), \(incrementSeconds),
                    \(price.incrementPrice), \(commissionBasisPoints), \(platformFeeBasisPoints), \(start), \(start), \(start), \(start)
                FROM unnest(\(callIDs)::uuid[], \(callers)::uuid[], \(advisors)::uuid[]) AS c(id, caller, advisor)
                """, logger: logger)
            return ActiveCallsFixture(
                licenseeID: licenseeID, callIDs: callIDs, callerIDs: callers, advisorIDs: advisors, incrementPrice: price.incrementPrice)
        }
    }
}
