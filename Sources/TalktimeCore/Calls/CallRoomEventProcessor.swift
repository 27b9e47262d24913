import Foundation
import Logging
import PostgresNIO

/// Applies the media service's verified room events to calls, once per event id: the caller or the Advisor
/// leaving, or the room finishing, ends the call; a party joining is recorded. Events about anyone else in the
/// room change nothing.
///
/// A party who reconnects joins again in a new session before (or after) the media service ends the old one, so
/// a departure ends the call only when the party has no other session in the room: its leaving session was not
/// replaced (the media service says so in the event), and no other session of the same party has joined without
/// leaving (known from the room's earlier events, whatever order they arrived in).
public struct CallRoomEventProcessor: Sendable {
    /// What became of one event.
    public enum Outcome: String, Sendable {
        case applied, duplicate, ignored
    }

    let calls: CallService

    public init(calls: CallService) {
        self.calls = calls
    }

    /// Applies `event`, which was signed with `apiKey`: an event about a room of a Licensee that does not use
    /// that key changes nothing (one Licensee's media account cannot end another's calls).
    public func process(_ event: CallRoomEvent, signedWith apiKey: String, logger: Logger) async throws -> Outcome {
        let now = calls.clock.now()
        let identity = event.participantIdentity.map { String($0.prefix(255)) }
        let signedByOwner = try await isSigned(with: apiKey, byTheLicenseeOf: event.roomName, logger: logger)
        let (outcome, finished): (Outcome, [Call]) = try await calls.database.withTransaction(.platform, logger: logger) { connection in
            let inserted = try await connection.query(
                """
                INSERT INTO call_room_events (id, kind, outcome, created_at, participant_identity, participant_session)
                VALUES (\(event.id), \(event.kindName), 'received', \(event.createdAt), \(identity), \(event.participantSession))
                ON CONFLICT (id) DO NOTHING RETURNING id
                """, logger: logger
            ).collect()
            guard !inserted.isEmpty else { return (.duplicate, []) }
            let row = try await connection.query(
                "SELECT \(unescaped: CallRecords.columns.sql) FROM calls WHERE room_name = \(event.roomName) FOR UPDATE", logger: logger
            ).collect().first
            guard signedByOwner, let call = try row.map(CallRecords.decode) else {
                try await record(event, outcome: .ignored, call: nil, on: connection, logger: logger)
                return (.ignored, [])
            }
            var outcome = Outcome.applied
            var ending: Call.EndReason?
            switch event.kind {
            case .participantJoined:
                guard let party = identity.flatMap(call.party(identifiedBy:)) else {
                    outcome = .ignored
                    break
                }
                let column = party == .caller ? "caller_joined_at" : "advisor_joined_at"
                // A call held because a party was missing from its room is looked at again by the billing engine's
                // next round, not at the end of the grace: its billing resumes as soon as both are back.
                try await connection.query(
                    """
                    UPDATE calls SET \(unescaped: column) = coalesce(\(unescaped: column), \(event.createdAt)),
                        reconcile_at = CASE WHEN party_missing_since IS NULL THEN reconcile_at ELSE \(now) END
                    WHERE id = \(call.id)
                    """, logger: logger)
            case .participantLeft:
                guard let identity, call.party(identifiedBy: identity) != nil else {
                    outcome = .ignored
                    break
                }
                if event.sessionReplaced { break }
                if let session = event.participantSession,
                    try await hasAnotherSession(identity, besides: session, in: call, on: connection, logger: logger)
                {
                    break
                }
                ending = .participantLeft
            case .roomFinished:
                ending = .roomFinished
            case .other:
                break
            }
            var finished: [Call] = []
            if let ending {
                let status: Call.Status = call.status == .ringing ? .cancelled : .ended
                finished = try await CallRecords.finish([call.id], status: status, reason: ending, at: now, on: connection, logger: logger)
            }
            try await record(event, outcome: outcome, call: call, on: connection, logger: logger)
            return (outcome, finished)
        }
        for call in finished { await calls.closeRoom(of: call, logger: logger) }
        return outcome
    }

    /// Whether the Licensee whose call has the room `roomName` uses the media account of `apiKey`. Asked before the
    /// event's transaction, not in it: the account lookup takes a pooled connection of its own, and a delivery
    /// that held one connection (and the call's lock) while waiting for a second could, with as many deliveries
    /// at once as the pool has connections, wait for ever.
    private func isSigned(with apiKey: String, byTheLicenseeOf roomName: String, logger: Logger) async throws -> Bool {
        let licenseeID = try await calls.database.withTransaction(.platform, logger: logger) { connection in
            try await connection.query("SELECT licensee_id FROM calls WHERE room_name = \(roomName)", logger: logger)
                .collect().first?.decode(UUID.self)
        }
        guard let licenseeID else { return false }
        return try await calls.credentials.credentials(forLicensee: licenseeID, logger: logger)?.apiKey == apiKey
    }

    /// Whether `identity` joined `call`'s room in a session other than `session` that has not left.
    private func hasAnotherSession(
        _ identity: String, besides session: String, in call: Call, on connection: PostgresConnection, logger: Logger
    ) async throws -> Bool {
        let rows = try await connection.query(
            """
            SELECT EXISTS (
                SELECT 1 FROM call_room_events joined
                WHERE joined.call_id = \(call.id) AND joined.participant_identity = \(identity)
                  AND joined.kind = 'participant_joined' AND joined.participant_session <> \(session)
                  AND NOT EXISTS (
                      SELECT 1 FROM call_room_events departed
                      WHERE departed.call_id = \(call.id) AND departed.participant_identity = \(identity)
                        AND departed.kind = 'participant_left' AND departed.participant_session = joined.participant_session))
            """, logger: logger
        ).collect()
        return try rows.first?.decode(Bool.self) ?? false
    }

    private func record(_ event: CallRoomEvent, outcome: Outcome, call: Call?, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            UPDATE call_room_events SET outcome = \(outcome.rawValue), licensee_id = \(call?.licenseeID), call_id = \(call?.id)
            WHERE id = \(event.id)
            """, logger: logger)
    }
}

extension CallRoomEvent {
    var kindName: String {
        switch kind {
        case .participantJoined: "participant_joined"
        case .participantLeft: "participant_left"
        case .roomFinished: "room_finished"
        case .other(let name): name
        }
    }
}
