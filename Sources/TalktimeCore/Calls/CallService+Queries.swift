import Foundation
import Logging
import PostgresNIO

extension CallService {
    /// One page of calls, newest first.
    public struct Page: Sendable {
        public var calls: [Call]
        public var hasMore: Bool
    }

    /// The call `callID`, for its caller, its Advisor, or an admin of its Licensee.
    public func call(_ callID: UUID, for principal: Principal, logger: Logger) async throws -> Call {
        guard let licenseeID = principal.licenseeID else { throw CallError.callNotFound }
        let call = try await database.withTransaction(.licensee(licenseeID), logger: logger) { connection in
            try await CallRecords.find(callID, lock: false, on: connection, logger: logger)
        }
        guard let call, principal.role == .licenseeAdmin || call.involves(principal.id) else { throw CallError.callNotFound }
        return call
    }

    /// The principal's own calls (as caller or as Advisor), newest first: at most `limit`, older than the call
    /// `startingAfter`.
    public func history(of principal: Principal, limit: Int, startingAfter: UUID?, logger: Logger) async throws -> Page {
        let licenseeID = try licensee(of: principal)
        guard (1...100).contains(limit) else { throw CallError.invalidChange("'limit' must lie between 1 and 100.") }
        let party = principal.role == .advisor ? "advisor_id" : "caller_id"
        return try await database.withTransaction(.licensee(licenseeID), logger: logger) { connection in
            var cursor: (Date, UUID)?
            if let startingAfter {
                guard
                    let (createdAt, id) = try await connection.query(
                        "SELECT created_at, id FROM calls WHERE id = \(startingAfter) AND \(unescaped: party) = \(principal.id)",
                        logger: logger
                    ).collect().first?.decode((Date, UUID).self)
                else { throw CallError.callNotFound }
                cursor = (createdAt, id)
            }
            let rows = try await connection.query(
                """
                SELECT \(unescaped: CallRecords.columns.sql) FROM calls
                WHERE licensee_id = \(licenseeID) AND \(unescaped: party) = \(principal.id)
                  AND (\(cursor == nil) OR (created_at, id) < (\(cursor?.0 ?? .distantFuture), \(cursor?.1 ?? principal.id)))
                ORDER BY created_at DESC, id DESC
                LIMIT \(limit + 1)
                """, logger: logger)
            var calls: [Call] = []
            for try await row in rows { calls.append(try CallRecords.decode(row)) }
            return Page(calls: Array(calls.prefix(limit)), hasMore: calls.count > limit)
        }
    }

    /// A fresh join token for a live call the principal takes part in (an app reconnecting): the caller while it
    /// rings or runs, the Advisor once answered.
    public func freshJoin(_ callID: UUID, for principal: Principal, logger: Logger) async throws -> CallWithJoin {
        let call = try await call(callID, for: principal, logger: logger)
        guard call.involves(principal.id) else { throw CallError.callNotFound }
        let allowed = call.status == .active || (call.status == .ringing && principal.id == call.callerID)
        guard allowed else { throw CallError.invalidState(call.status) }
        guard let account = try await credentials.credentials(forLicensee: call.licenseeID, logger: logger) else {
            throw CallError.roomUnavailable
        }
        return CallWithJoin(call: call, join: try await joinToken(for: call, participant: principal, account: account))
    }
}
