import Foundation
import TalktimeCore

/// A LiveKit webhook body (`WebhookEvent` in protobuf JSON) read into the domain's `CallRoomEvent`.
///
/// livekit-server writes protobuf JSON with camelCase names and 64-bit numbers as strings; other producers
/// (the SDKs' own serializers) may use the protobuf names and plain numbers, so both are read.
enum LiveKitWebhookEvent {
    /// The event in `body`, or nil when it is not a webhook event; `receivedAt` stands in for a missing time.
    static func decode(_ body: [UInt8], receivedAt: Date) -> CallRoomEvent? {
        guard let wire = try? JSONDecoder().decode(Wire.self, from: Data(body)), !wire.id.isEmpty, !wire.event.isEmpty else {
            return nil
        }
        let kind: CallRoomEvent.Kind =
            switch wire.event {
            case "participant_joined": .participantJoined
            case "participant_left": .participantLeft
            case "room_finished": .roomFinished
            default: .other(String(wire.event.prefix(64)))
            }
        let room = wire.room?.name ?? ""
        switch kind {
        case .participantJoined, .participantLeft:
            guard !room.isEmpty, wire.participant?.identity != nil else { return nil }
        case .roomFinished:
            guard !room.isEmpty else { return nil }
        case .other:
            break
        }
        return CallRoomEvent(
            id: String(wire.id.prefix(128)), kind: kind, roomName: room, participantIdentity: wire.participant?.identity,
            participantSession: wire.participant?.sid.flatMap { $0.isEmpty ? nil : String($0.prefix(128)) },
            sessionReplaced: wire.participant?.disconnectReason.map(replacedReasons.contains) ?? false,
            createdAt: wire.createdAt.map { Date(timeIntervalSince1970: Double($0)) } ?? receivedAt)
    }

    /// `DisconnectReason`s (livekit/protocol `models.proto`) that end a session whose participant stays in the
    /// room: `DUPLICATE_IDENTITY` (2), the same identity joined again, which is how a reconnect with a fresh
    /// token looks; `MIGRATION` (8), the participant moved to another server.
    private static let replacedReasons: Set<String> = ["DUPLICATE_IDENTITY", "2", "MIGRATION", "8"]

    private struct Wire: Decodable {
        struct Room: Decodable {
            let name: String?
        }
        struct Participant: Decodable {
            let identity: String?
            let sid: String?
            /// The enum's name (protobuf JSON) or its number (other producers).
            let disconnectReason: String?

            enum CodingKeys: String, CodingKey {
                case identity, sid, disconnectReason
                case disconnect_reason
            }

            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                identity = try? container.decodeIfPresent(String.self, forKey: .identity)
                sid = try? container.decodeIfPresent(String.self, forKey: .sid)
                disconnectReason = Self.enumValue(container, .disconnectReason) ?? Self.enumValue(container, .disconnect_reason)
            }

            private static func enumValue(_ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) -> String? {
                if let name = try? container.decodeIfPresent(String.self, forKey: key) { return name }
                return (try? container.decodeIfPresent(Int.self, forKey: key)).flatMap { $0.map(String.init) }
            }
        }

        let event: String
        let id: String
        let room: Room?
        let participant: Participant?
        let createdAt: Int64?

        enum CodingKeys: String, CodingKey {
            case event, id, room, participant, createdAt
            case created_at
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            event = try container.decodeIfPresent(String.self, forKey: .event) ?? ""
            id = try container.decodeIfPresent(String.self, forKey: .id) ?? ""
            room = try container.decodeIfPresent(Room.self, forKey: .room)
            participant = try container.decodeIfPresent(Participant.self, forKey: .participant)
            createdAt = try Self.int64(container, .createdAt) ?? Self.int64(container, .created_at)
        }

        // protobuf JSON writes int64 as a string; accept a number too.
        private static func int64(_ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> Int64? {
            if let text = try? container.decodeIfPresent(String.self, forKey: key) { return Int64(text) }
            return try? container.decodeIfPresent(Int64.self, forKey: key)
        }
    }
}
