import Foundation
import Hummingbird
import TalktimeCore
import TalktimeTestSupport
import Testing

@testable import Talktime

/// `POST /v1/webhooks/livekit` through the application: genuine events end or annotate calls once; anything
/// not signed by the account's secret over the exact body is a 401 that changes nothing.
@Suite struct CallWebhookTests {
    /// An answered call of alpha's End User: its id, room and the caller's identity.
    func activeCall(_ world: CallWorld) async throws -> (id: String, room: String, caller: String) {
        try await world.fund(world.alpha, 1_000)
        let started = try await world.startCall(world.alpha)
        let id = try #require((started.json["call"] as? [String: Any])?["id"] as? String)
        let room = try #require((started.json["livekit"] as? [String: Any])?["room"] as? String)
        #expect(try await world.http.send(.post, "/v1/calls/\(id)/accept", token: world.alpha.advisorToken).status == .ok)
        return (id, room, try await world.id(of: world.alpha.endUserToken).uuidString.lowercased())
    }

    @Test func aParticipantLeavingEndsTheCallOnceHoweverOftenItIsDelivered() async throws {
        try await CallWorld.run { world in
            let call = try await activeCall(world)
            let joined = FakeLiveKit.webhookBody(event: "participant_joined", id: "EV_join", room: call.room, participant: call.caller)
            #expect(try await world.deliverWebhook(joined).status == .ok)
            #expect(try await world.count("SELECT count(*) FROM calls WHERE caller_joined_at IS NOT NULL") == 1)

            let left = FakeLiveKit.webhookBody(event: "participant_left", id: "EV_left", room: call.room, participant: call.caller)
            let replies = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<5 { group.addTask { try await world.deliverWebhook(left).status } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(replies == Array(repeating: .ok, count: 5))
            let ended = try await world.call(call.id, token: world.alpha.endUserToken)
            #expect(ended["status"] as? String == "ended")
            #expect(ended["end_reason"] as? String == "participant_left")
            #expect(try await world.count("SELECT count(*) FROM call_room_events") == 2)
            try await world.eventually("the room is deleted") { world.liveKit.deletedRooms == [call.room] }
            #expect(try await world.presence(of: world.alpha) == "available")
            #expect(try await world.balance(world.alpha) == 880)
        }
    }

    @Test func theRoomFinishingCancelsARingingCall() async throws {
        try await CallWorld.run { world in
            try await world.fund(world.alpha, 1_000)
            let started = try await world.startCall(world.alpha)
            let id = try #require((started.json["call"] as? [String: Any])?["id"] as? String)
            let room = try #require((started.json["livekit"] as? [String: Any])?["room"] as? String)
            #expect(try await world.deliverWebhook(FakeLiveKit.webhookBody(event: "room_finished", id: "EV_fin", room: room)).status == .ok)
            #expect(try await world.call(id, token: world.alpha.endUserToken)["status"] as? String == "cancelled")
            // Events about rooms Talktime does not know, and kinds it does not use, are acknowledged and ignored.
            #expect(try await world.deliverWebhook(FakeLiveKit.webhookBody(event: "room_finished", id: "EV_x", room: "elsewhere")).status == .ok)
            #expect(try await world.deliverWebhook(FakeLiveKit.webhookBody(event: "track_published", id: "EV_t", room: room)).status == .ok)
        }
    }

    @Test func forgedExpiredAndMismatchedDeliveriesAreRefusedWithNothingChanged() async throws {
        try await CallWorld.run { world in
            let call = try await activeCall(world)
            let left = FakeLiveKit.webhookBody(event: "participant_left", id: "EV_bad", room: call.room, participant: call.caller)
            let forgeries: [(String, String?)] = [
                ("no header", ""),
                (
                    "another secret",
                    try await world.liveKit.webhookAuthorization(
                        for: left, issuedAt: world.clock.now(), secret: "guessed-secret-0123456789abcdef0123456")
                ),
                ("another key", try await world.liveKit.webhookAuthorization(for: left, issuedAt: world.clock.now(), key: "APIsomeoneelse")),
                ("expired", try await world.liveKit.webhookAuthorization(for: left, issuedAt: world.clock.now().addingTimeInterval(-600))),
                (
                    "signed for another body",
                    try await world.liveKit.webhookAuthorization(
                        for: left.replacingOccurrences(of: "EV_bad", with: "EV_other"), issuedAt: world.clock.now())
                ),
                ("not a token", "Bearer garbage"),
            ]
            for (what, authorization) in forgeries {
                var headers: HTTPFields = [.contentType: "application/webhook+json"]
                if let authorization, !authorization.isEmpty { headers[.authorization] = authorization }
                let reply = try await world.http.send(.post, "/v1/webhooks/livekit", raw: Array(left.utf8), headers: headers)
                #expect(reply.status == .unauthorized, "\(what): \(reply.status)")
                #expect(reply.headers[.contentType] == "application/problem+json")
                #expect(!reply.text.contains(world.liveKit.apiSecret))
            }
            #expect(try await world.count("SELECT count(*) FROM call_room_events") == 0)
            #expect(try await world.call(call.id, token: world.alpha.endUserToken)["status"] as? String == "active")
            #expect(world.liveKit.deletedRooms.isEmpty)
        }
    }
}
