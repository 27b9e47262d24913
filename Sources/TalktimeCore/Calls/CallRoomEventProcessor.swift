import Foundation
import Logging
import PostgresNIO

/// Applies the media service's verified room events to calls, once per event id: a participant leaving or the
/// room finishing ends the call; a participant joining is recorded.
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
        let (outcome, finished): (Outcome, [Call]) = try await calls.database.withTransaction(.platform, logger: logger) { connection in
            let inserted = try await connection.query(
                """
                INSERT INTO call_room_events (id, kind, outcome, created_at) VALUES (\(event.id), \(event.kindName), 'received', \(event.createdAt))
                ON CONFLICT (id) DO NOTHING RETURNING id
                """, logger: logger
            ).collect()
            guard !inserted.isEmpty else { return (.duplicate, []) }
            let row = try await connection.query(
                "SELECT \(unescaped: CallRecords.columns.sql) FROM calls WHERE room_name = \(event.roomName) FOR UPDATE", logger: logger
            ).collect().first
            guard let call = try row.map(CallRecords.decode),
                try await calls.credentials.credentials(forLicensee: call.licenseeID, logger: logger)?.apiKey == apiKey
            else {
                try await record(event, outcome: .ignored, call: nil, on: connection, logger: logger)
                return (.ignored, [])
            }
            var finished: [Call] = []
            switch event.kind {
            case .participantJoined:
                let column = event.participantIdentity == call.callerID.uuidString.lowercased() ? "caller_joined_at" : "advisor_joined_at"
                try await connection.query(
                    "UPDATE calls SET \(unescaped: column) = coalesce(\(unescaped: column), \(event.createdAt)) WHERE id = \(call.id)",
                    logger: logger)
            case .participantLeft, .roomFinished:
                let reason: Call.EndReason = event.kind == .roomFinished ? .roomFinished : .participantLeft
                let status: Call.Status = call.status == .ringing ? .cancelled : .ended
                finished = try await CallRecords.finish([call.id], status: status, reason: reason, at: now, on: connection, logger: logger)
            case .other:
                break
            }
            try await record(event, outcome: .applied, call: call, on: connection, logger: logger)
            return (.applied, finished)
        }
        for call in finished { await calls.closeRoom(of: call, logger: logger) }
        return outcome
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
