import Foundation
import Hummingbird
import Synchronization
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
            #expect(try await world.http.metric("talktime_webhook_events_total", ["source": "livekit", "outcome": "applied"]) == 2)
            #expect(try await world.http.metric("talktime_webhook_events_total", ["source": "livekit", "outcome": "duplicate"]) == 4)
        }
    }

    /// Delivers a participant event of `identity`'s session `session` in `room`, expecting 200.
    func deliver(
        _ event: String, _ id: String, room: String, identity: String, session: String, reason: String? = nil, world: CallWorld
    ) async throws {
        let body = FakeLiveKit.webhookBody(
            event: event, id: id, room: room, participant: identity, session: session, disconnectReason: reason)
        let reply = try await world.deliverWebhook(body)
        #expect(reply.status == .ok, "\(id): \(reply.text)")
    }

    @Test func aPartyWhoReconnectsKeepsTheCallGoingInWhateverOrderTheEventsArrive() async throws {
        try await CallWorld.run { world in
            let call = try await activeCall(world)
            let advisor = try await world.id(of: world.alpha.advisorToken).uuidString.lowercased()
            func status() async throws -> String? { try await world.call(call.id, token: world.alpha.endUserToken)["status"] as? String }

            // The caller reconnects with a fresh token: LiveKit ends the first session as a duplicate identity.
            try await deliver("participant_joined", "EV_c1", room: call.room, identity: call.caller, session: "PA_c1", world: world)
            try await deliver("participant_joined", "EV_c2", room: call.room, identity: call.caller, session: "PA_c2", world: world)
            try await deliver(
                "participant_left", "EV_c1_left", room: call.room, identity: call.caller, session: "PA_c1", reason: "DUPLICATE_IDENTITY",
                world: world)
            #expect(try await status() == "active")

            // The Advisor is moved to another server, and LiveKit's departure arrives before the new session's arrival.
            try await deliver("participant_joined", "EV_a1", room: call.room, identity: advisor, session: "PA_a1", world: world)
            try await deliver(
                "participant_left", "EV_a1_left", room: call.room, identity: advisor, session: "PA_a1", reason: "MIGRATION", world: world)
            try await deliver("participant_joined", "EV_a2", room: call.room, identity: advisor, session: "PA_a2", world: world)
            #expect(try await status() == "active")

            // A departure that gives no reason, while another session of the same party is in the room, ends nothing.
            try await deliver("participant_joined", "EV_a3", room: call.room, identity: advisor, session: "PA_a3", world: world)
            try await deliver("participant_left", "EV_a2_left", room: call.room, identity: advisor, session: "PA_a2", world: world)
            #expect(try await status() == "active")
            #expect(world.liveKit.deletedRooms.isEmpty)

            // The Advisor's last session leaving does: the party has gone.
            try await deliver(
                "participant_left", "EV_a3_left", room: call.room, identity: advisor, session: "PA_a3", reason: "CLIENT_INITIATED",
                world: world)
            let ended = try await world.call(call.id, token: world.alpha.endUserToken)
            #expect(ended["status"] as? String == "ended")
            #expect(ended["end_reason"] as? String == "participant_left")
            try await world.eventually("the room is deleted") { world.liveKit.deletedRooms == [call.room] }
            #expect(try await world.count("SELECT count(*) FROM call_room_events WHERE outcome = 'applied'") == 9)
        }
    }

    @Test func aHeldCallIsLookedAtAgainWhenAPartyJoinsAndResumesOnceBothAreBack() async throws {
        try await CallWorld.run { world in
            let call = try await activeCall(world)  // 1,000 funded, the first increment of 120 paid
            let advisor = try await world.id(of: world.alpha.advisorToken).uuidString.lowercased()
            world.liveKit.join(call.caller, room: call.room)
            world.liveKit.join(advisor, room: call.room)
            @Sendable func held(nextLookAt seconds: Int? = nil) async throws -> Bool {
                let next = seconds.map { " AND reconcile_at = answered_at + interval '\($0) seconds'" } ?? ""
                return try await world.count("SELECT count(*) FROM calls WHERE party_missing_since IS NOT NULL\(next)") == 1
            }
            // How often the engine has asked LiveKit who is in the room.
            @Sendable func looks() -> Int { world.liveKit.received.filter { $0.method == "ListParticipants" }.count }

            // 60 s: the second increment; the room is checked and both are there.
            world.clock.advance(by: .seconds(60))
            try await world.eventually("the second increment is charged") { try await world.balance(world.alpha) == 760 }
            try await world.eventually("the room is checked") { looks() == 1 }
            // The Advisor drops out and LiveKit's departure is lost. 120 s: the third increment is charged, then the
            // check finds the Advisor missing and holds the call, to be looked at again at 140 s (the grace is 20 s).
            world.liveKit.leave(advisor, room: call.room)
            world.clock.advance(by: .seconds(60))
            try await world.eventually("the call is held") { try await held(nextLookAt: 140) }
            #expect(try await world.balance(world.alpha) == 640)

            // The caller reconnects, with the clock standing at 120 s: the call is looked at again at once (one more
            // request for the room's participants), the Advisor is still missing, and the hold keeps the end of the
            // Advisor's grace (140 s), not a new one.
            let looked = looks()
            try await deliver("participant_joined", "EV_c2", room: call.room, identity: call.caller, session: "PA_c2", world: world)
            try await world.eventually("the call is looked at again") {
                let held = try await held(nextLookAt: 140)
                return looks() == looked + 1 && held
            }
            #expect(try await world.call(call.id, token: world.alpha.endUserToken)["status"] as? String == "active")

            // The Advisor is back: the next look finds both, well before 140 s, and billing goes on.
            world.liveKit.join(advisor, room: call.room)
            try await deliver("participant_joined", "EV_a2", room: call.room, identity: advisor, session: "PA_a2", world: world)
            try await world.eventually("the hold is lifted") { try await !held() }
            #expect(looks() == looked + 2)
            world.clock.advance(by: .seconds(59))
            try await world.eventually("the fourth increment is charged") { try await world.balance(world.alpha) == 520 }
            #expect(try await world.call(call.id, token: world.alpha.endUserToken)["status"] as? String == "active")
        }
    }

    @Test func someoneElseInTheRoomNeitherJoinsForAPartyNorEndsTheCall() async throws {
        try await CallWorld.run { world in
            let call = try await activeCall(world)
            for (n, stranger) in [UUID().uuidString.lowercased(), "recorder", call.caller.uppercased()].enumerated() {
                try await deliver("participant_joined", "EV_s\(n)", room: call.room, identity: stranger, session: "PA_s\(n)", world: world)
                try await deliver("participant_left", "EV_s\(n)_left", room: call.room, identity: stranger, session: "PA_s\(n)", world: world)
            }
            #expect(try await world.call(call.id, token: world.alpha.endUserToken)["status"] as? String == "active")
            #expect(try await world.count("SELECT count(*) FROM calls WHERE caller_joined_at IS NOT NULL OR advisor_joined_at IS NOT NULL") == 0)
            #expect(try await world.count("SELECT count(*) FROM call_room_events WHERE outcome = 'ignored' AND call_id IS NOT NULL") == 6)
            #expect(world.liveKit.deletedRooms.isEmpty)
        }
    }

    @Test func manyDeliveriesAtOnceAreAllAnsweredByASmallConnectionPool() async throws {
        try await CallWorld.run(["DATABASE_MAX_CONNECTIONS": "2"]) { world in
            let call = try await activeCall(world)
            // Each delivery used to hold a pooled connection (and the call's lock) while it asked the pool for a
            // second one, to look up the Licensee's media account: as many at once as the pool has connections
            // waited on one another for ever.
            let answered = AnsweredCount()
            let burst = Task {
                try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for n in 0..<12 {
                        group.addTask {
                            let body = FakeLiveKit.webhookBody(
                                event: "participant_joined", id: "EV_burst_\(n)", room: call.room, participant: call.caller, session: "PA_\(n)")
                            let status = try await world.deliverWebhook(body).status
                            answered.count.withLock { $0 += 1 }
                            return status
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            }
            defer { burst.cancel() }
            try await eventually("12 deliveries at once are answered", within: .seconds(30)) { answered.count.withLock { $0 } == 12 }
            #expect(try await burst.value == Array(repeating: .ok, count: 12))
            #expect(try await world.count("SELECT count(*) FROM call_room_events WHERE outcome = 'applied'") == 12)
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
            #expect(try await world.http.metric("talktime_webhook_events_total", ["source": "livekit", "outcome": "rejected"]) == 6)
        }
    }
}

/// Deliveries answered so far, counted from concurrent tasks.
private final class AnsweredCount: Sendable {
    let count = Mutex(0)
}
