import Foundation
import Logging
import PostgresNIO

/// The SQL that reads and finishes calls, shared by the call service, the billing engine and the room events.
enum CallRecords {
    static let columns: PostgresQuery = """
        id, licensee_id, caller_id, advisor_id, status, room_name, currency, rate_per_minute_minor, increment_seconds, \
        increment_price_minor, commission_bps, platform_fee_bps, created_at, ring_deadline, answered_at, billed_increments, \
        billed_amount_minor, paid_until, ends_at, ended_at, end_reason
        """

    /// `columns`, each qualified by a query's alias for `calls` (for joins whose tables share column names).
    static func columns(of alias: String) -> String {
        columns.sql.split(separator: ",").map { "\(alias).\($0.trimmingCharacters(in: .whitespaces))" }.joined(separator: ", ")
    }

    /// The call `id`, locked `FOR UPDATE` until the transaction ends when `lock` is set.
    static func find(_ id: UUID, lock: Bool, on connection: PostgresConnection, logger: Logger) async throws -> Call? {
        let rows =
            lock
            ? try await connection.query("SELECT \(unescaped: columns.sql) FROM calls WHERE id = \(id) FOR UPDATE", logger: logger)
            : try await connection.query("SELECT \(unescaped: columns.sql) FROM calls WHERE id = \(id)", logger: logger)
        return try await rows.collect().first.map(decode)
    }

    static func decode(_ row: PostgresRow) throws -> Call {
        let c = row.makeRandomAccess()
        let status = try c["status"].decode(String.self)
        let endReason = try c["end_reason"].decode(String?.self)
        return Call(
            id: try c["id"].decode(UUID.self),
            licenseeID: try c["licensee_id"].decode(UUID.self),
            callerID: try c["caller_id"].decode(UUID.self),
            advisorID: try c["advisor_id"].decode(UUID.self),
            status: Call.Status(rawValue: status) ?? .ended,
            roomName: try c["room_name"].decode(String.self),
            price: CallPrice(
                currency: try c["currency"].decode(String.self),
                ratePerMinute: try c["rate_per_minute_minor"].decode(Int64.self),
                incrementSeconds: Int(try c["increment_seconds"].decode(Int32.self)),
                incrementPrice: try c["increment_price_minor"].decode(Int64.self),
                commissionBasisPoints: Int(try c["commission_bps"].decode(Int32.self)),
                platformFeeBasisPoints: Int(try c["platform_fee_bps"].decode(Int32.self))),
            createdAt: try c["created_at"].decode(Date.self),
            ringDeadline: try c["ring_deadline"].decode(Date.self),
            answeredAt: try c["answered_at"].decode(Date?.self),
            billedIncrements: Int(try c["billed_increments"].decode(Int32.self)),
            billedAmount: try c["billed_amount_minor"].decode(Int64.self),
            paidUntil: try c["paid_until"].decode(Date?.self),
            endsAt: try c["ends_at"].decode(Date?.self),
            endedAt: try c["ended_at"].decode(Date?.self),
            endReason: endReason.flatMap(Call.EndReason.init(rawValue:)))
    }

    /// Ends the live calls `ids` with `status` and `reason` at `time` (or at each call's `ends_at` when the paid
    /// time ran out), and makes their Advisors available again unless they went offline meanwhile. Calls that
    /// are no longer live are left alone. Returns the calls finished.
    @discardableResult
    static func finish(
        _ ids: [UUID], status: Call.Status, reason: Call.EndReason, at time: Date, on connection: PostgresConnection, logger: Logger
    ) async throws -> [Call] {
        guard !ids.isEmpty else { return [] }
        let rows = try await connection.query(
            """
            WITH finished AS (
                UPDATE calls SET status = \(status.rawValue), end_reason = \(reason.rawValue),
                    ended_at = CASE WHEN \(reason.rawValue) = 'insufficient_funds' THEN coalesce(ends_at, \(time)) ELSE \(time) END
                WHERE id = ANY (\(ids)) AND status IN ('ringing', 'active')
                RETURNING \(unescaped: columns.sql)
            ), freed AS (
                UPDATE advisor_profiles SET presence = 'available', updated_at = now()
                WHERE user_id IN (SELECT advisor_id FROM finished) AND presence = 'busy'
            )
            SELECT \(unescaped: columns.sql) FROM finished
            """,
            logger: logger)
        var calls: [Call] = []
        for try await row in rows { calls.append(try decode(row)) }
        return calls
    }
}
