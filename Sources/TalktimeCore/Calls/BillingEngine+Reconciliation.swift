import Foundation
import Logging
import PostgresNIO

extension BillingEngine {
    /// Asks the media service who is in the rooms of active calls not checked for a while, and ends the calls
    /// that the room events which were lost would have ended.
    ///
    /// - Neither party in the room: the call ends at once (`room_empty`).
    /// - One party missing: it may be reconnecting, so the call is marked and held: no further increment is
    ///   charged (`chargeDueCalls`). It is checked again `reconcileGrace` later. A party still missing then has
    ///   gone, and the call ends (`participant_left`): the caller never pays for an increment that began after
    ///   the other party was found gone. Both back: the mark is cleared and the held increment is charged, late
    ///   but for the same time it would have covered. A party joining the room (`CallRoomEventProcessor`) has the
    ///   call looked at again at once; a party still missing then keeps the rest of its grace.
    /// - Both parties there: any mark is cleared.
    /// - The look failed (the media service did not answer, say): it is tried again `reconcileRetry` later, the
    ///   mark as it was.
    func reconcileRooms(now: Date) async throws -> Int {
        let interval = settings.reconcileInterval
        let intervalSeconds = Double(interval.components.seconds)
        // Claimed calls are due again one interval on, so that no other engine looks at them meanwhile; each
        // look then says when the next is due.
        let candidates = try await database.withTransaction(.platform, logger: logger) { connection in
            try await connection.query(
                """
                UPDATE calls SET reconcile_at = \(now.adding(interval))
                WHERE id IN (
                    SELECT id FROM calls
                    WHERE status = 'active'
                        AND coalesce(reconcile_at, answered_at + make_interval(secs => \(intervalSeconds))) <= \(now)
                    ORDER BY coalesce(reconcile_at, answered_at + make_interval(secs => \(intervalSeconds)))
                    LIMIT 20 FOR UPDATE SKIP LOCKED)
                RETURNING \(unescaped: CallRecords.columns.sql), party_missing_since
                """, logger: logger
            ).collect().map { row in
                (try CallRecords.decode(row), try row.makeRandomAccess()["party_missing_since"].decode(Date?.self))
            }
        }
        var ended = 0
        for (call, missingSince) in candidates {
            do {
                guard let account = try await calls.credentials.credentials(forLicensee: call.licenseeID, logger: logger) else { continue }
                let present = Set(try await calls.rooms.participants(inRoom: call.roomName, credentials: account, logger: logger))
                let missing = [call.callerID, call.advisorID].filter { !present.contains(Call.roomIdentity(of: $0)) }
                switch (missing.count, missingSince) {
                case (2, _):
                    try await calls.finish(call.id, status: .ended, reason: .roomEmpty, scope: .platform, logger: logger)
                    ended += 1
                case (1, nil):
                    try await scheduleCheck(call.id, at: now.adding(settings.reconcileGrace), partyMissing: .since(now))
                case (1, .some(let since)) where now < since.adding(settings.reconcileGrace):
                    try await scheduleCheck(call.id, at: since.adding(settings.reconcileGrace), partyMissing: .since(since))
                case (1, .some):
                    try await calls.finish(call.id, status: .ended, reason: .participantLeft, scope: .platform, logger: logger)
                    ended += 1
                case (_, .some):
                    try await scheduleCheck(call.id, at: now.adding(interval), partyMissing: .no)
                default:
                    break
                }
            } catch {
                logger.warning("could not reconcile a call's room", metadata: ["call_id": "\(call.id)", "error": "\(error)"])
                // Not one interval on, as claimed: a held call would be charged nothing, and a call that lost a
                // party would go on, for that long.
                do {
                    try await scheduleCheck(call.id, at: now.adding(settings.reconcileRetry), partyMissing: .asBefore)
                } catch {
                    logger.warning("could not reschedule a call's room check", metadata: ["call_id": "\(call.id)", "error": "\(error)"])
                }
            }
        }
        return ended
    }

    /// What a check learnt of a party missing from the call's room.
    private enum PartyMissing {
        /// A party is missing, first found so at this time.
        case since(Date)
        /// Both parties were there.
        case no
        /// The check learnt nothing: whatever was known stays.
        case asBefore
    }

    /// Records when to check the call's room next, and what this check learnt of a missing party.
    private func scheduleCheck(_ callID: UUID, at next: Date, partyMissing: PartyMissing) async throws {
        let since: Date?
        let known: Bool
        switch partyMissing {
        case .since(let date): (since, known) = (date, true)
        case .no: (since, known) = (nil, true)
        case .asBefore: (since, known) = (nil, false)
        }
        try await database.withTransaction(.platform, logger: logger) { connection in
            try await connection.query(
                """
                UPDATE calls SET party_missing_since = CASE WHEN \(known) THEN \(since) ELSE party_missing_since END,
                    reconcile_at = \(next)
                WHERE id = \(callID) AND status = 'active'
                """, logger: logger)
        }
    }
}
