import Foundation
import Hummingbird
import PostgresNIO
import TalktimeCore
import TalktimeTestSupport
import Testing

@testable import Talktime

/// A call from start to end through the HTTP API, against PostgreSQL and a fake LiveKit, on a test clock.
@Suite struct CallFlowTests {
    @Test func aCallIsBilledEveryIncrementUntilTheMoneyRunsOut() async throws {
        try await CallWorld.run { world in
            let alpha = world.alpha
            // 120 a minute in 60-second increments: 250 pays two increments, not a third.
            try await world.fund(alpha, 250)
            let own = try await world.http.send(.get, "/v1/advisors/me", token: alpha.advisorToken)
            #expect(own.status == .ok && own.json["rate_per_minute"] as? Int == 120 && own.json["presence"] as? String == "available")
            #expect(own.text.contains("\"avatar_url\":null"))
            let device = try await world.http.send(
                .post, "/v1/devices", json: ["platform": "android", "token": "fcm-token-of-the-advisor"], token: alpha.advisorToken)
            #expect(device.status == .created, "\(device.text)")
            let started = try await world.startCall(alpha)
            #expect(started.status == .created, "\(started.text)")
            let call = try #require(started.json["call"] as? [String: Any])
            let livekit = try #require(started.json["livekit"] as? [String: Any])
            let callID = try #require(call["id"] as? String)
            let room = try #require(livekit["room"] as? String)
            #expect(call["status"] as? String == "ringing")
            #expect(call["rate_per_minute"] as? Int == 120)
            #expect(call["increment_price"] as? Int == 120)
            #expect(livekit["url"] as? String == world.liveKit.credentials.serverURL)
            // The room exists, for two, and the caller's token lets exactly the caller into exactly that room.
            #expect(world.liveKit.rooms[room]?.maxParticipants == 2)
            let callerID = try await world.id(of: alpha.endUserToken)
            let callerToken = try await world.liveKit.verifyToken(try #require(livekit["token"] as? String))
            #expect(callerToken.sub?.value == callerID.uuidString.lowercased())
            #expect(callerToken.video?.room == room && callerToken.video?.roomJoin == true)
            #expect(callerToken.video?.roomAdmin == nil && callerToken.video?.roomCreate == nil)
            #expect(try await world.presence(of: alpha) == "busy")
            // The Advisor's phone rings: a high-priority data push that lives as long as the ring.
            try await world.eventually("the push is sent") { !world.fcm.messages.isEmpty }
            let push = try #require(world.fcm.messages.first)
            #expect(push.token == "fcm-token-of-the-advisor")
            #expect(push.data["type"] == "incoming_call")
            #expect(push.data["call_id"] == callID)
            #expect(push.priority == "HIGH")
            #expect(push.ttl == "30s")

            // The Advisor answers: the first increment is charged at once.
            let accepted = try await world.http.send(.post, "/v1/calls/\(callID)/accept", token: alpha.advisorToken)
            #expect(accepted.status == .ok, "\(accepted.text)")
            let advisorJoin = try await world.liveKit.verifyToken(
                try #require((accepted.json["livekit"] as? [String: Any])?["token"] as? String))
            let advisorID = try await world.id(of: alpha.advisorToken)
            #expect(advisorJoin.sub?.value == advisorID.uuidString.lowercased())
            #expect(try await world.balance(alpha) == 130)
            // Both are in the room when the engine checks it (one missing would hold the call's billing).
            world.liveKit.join(callerID.uuidString.lowercased(), room: room)
            world.liveKit.join(advisorID.uuidString.lowercased(), room: room)

            // A minute later the engine charges the second increment, on its own.
            world.clock.advance(by: .seconds(60))
            try await world.eventually("the second increment is charged") { try await world.balance(alpha) == 10 }
            #expect(try await world.call(callID, token: alpha.endUserToken)["billed_increments"] as? Int == 2)

            // The third cannot be paid: when the paid time ends, the call ends and its room goes.
            world.clock.advance(by: .seconds(60))
            try await world.eventually("the call ends") {
                try await world.call(callID, token: alpha.endUserToken)["status"] as? String == "ended"
            }
            let ended = try await world.call(callID, token: alpha.endUserToken)
            #expect(ended["end_reason"] as? String == "insufficient_funds")
            #expect(ended["billed_increments"] as? Int == 2)
            #expect(ended["billed_amount"] as? Int == 240)
            #expect(try await world.balance(alpha) == 10)
            try await world.eventually("the room is deleted") { world.liveKit.deletedRooms.contains(room) }
            #expect(try await world.presence(of: alpha) == "available")

            // Every cent of the gross went to the Advisor, the Licensee and the platform; the ledger is sound.
            let legs = try await world.world.superuser(
                """
                SELECT a.kind, sum(e.amount)::bigint FROM ledger_entries e
                JOIN ledger_transactions t ON t.id = e.transaction_id JOIN ledger_accounts a ON a.id = e.account_id
                WHERE t.idempotency_key LIKE 'call:\(callID.lowercased()):%' GROUP BY a.kind
                """)
            var split: [String: Int64] = [:]
            for row in legs {
                let (kind, amount) = try row.decode((String, Int64).self)
                split[kind] = amount
            }
            #expect(split["wallet"] == -240)
            #expect(split["advisor_earnings", default: 0] + split["licensee_earnings", default: 0] + split["platform_revenue", default: 0] == 240)
            // PRODUCT.md: platform fee 10 % and commission 20 % of the gross by default; the Advisor keeps the rest.
            #expect(split["platform_revenue"] == 24)
            #expect(split["licensee_earnings"] == 48)
            #expect(split["advisor_earnings"] == 168)
            #expect(try await world.count(CallBillingDueList.mismatchesSQL) == 0)
            try await world.world.database.withAppDatabase { database in
                let report = try await LedgerVerifier(database: database).verify(logger: TestPostgres.logger)
                #expect(report.isHealthy, "\(report.problems)")
            }
        }
    }

    @Test func aDeviceTokenOutsideTheContractIsRefusedAndNothingIsSaved() async throws {
        try await CallWorld.run { world in
            let refused: [(String, String)] = [
                ("android", ""), ("android", " padded-token "), ("android", "with space"), ("android", "control\u{01}char"),
                ("android", "delete\u{7F}char"), ("android", "non-ascii-é"), ("android", String(repeating: "a", count: 4097)),
                ("ios", "abc"), ("ios", "zz"),
            ]
            for (platform, token) in refused {
                let reply = try await world.http.send(
                    .post, "/v1/devices", json: ["platform": platform, "token": token], token: world.alpha.advisorToken)
                #expect(reply.status == .unprocessableContent || reply.status == .badRequest, "\(platform) \(token.prefix(20)): \(reply.text)")
            }
            #expect(try await world.count("SELECT count(*) FROM devices") == 0)
            for (platform, token) in [("android", "!~" + String(repeating: "a", count: 4094)), ("ios", "0aFf")] {
                let reply = try await world.http.send(
                    .post, "/v1/devices", json: ["platform": platform, "token": token], token: world.alpha.advisorToken)
                #expect(reply.status == .created, "\(platform): \(reply.text)")
            }
        }
    }

    @Test func aDeviceFCMNoLongerKnowsIsForgottenAndTheCallRingsOn() async throws {
        try await CallWorld.run { world in
            try await world.fund(world.alpha, 500)
            for token in ["gone-token", "live-token"] {
                let reply = try await world.http.send(
                    .post, "/v1/devices", json: ["platform": "android", "token": token], token: world.alpha.advisorToken)
                #expect(reply.status == .created, "\(reply.text)")
            }
            world.fcm.unregister("gone-token")
            let started = try await world.startCall(world.alpha)
            #expect(started.status == .created)
            // The devices are alerted one after the other, in no set order: wait for both outcomes.
            try await world.eventually("the dead device is deleted and the live one alerted") {
                try await world.count("SELECT count(*) FROM devices") == 1 && !world.fcm.messages.isEmpty
            }
            #expect(world.fcm.messages.map(\.token) == ["live-token"])
            #expect((started.json["call"] as? [String: Any])?["status"] as? String == "ringing")
            // The operator sees one alert sent, one push delivered and one device gone.
            try await world.eventually("the alert is counted") {
                try await world.http.metric("talktime_push_alerts_total", ["result": "sent"]) == 1
            }
            let deliveries = ["delivered": 1.0, "device_gone": 1.0, "failed": nil]
            for (result, count) in deliveries {
                #expect(try await world.http.metric("talktime_push_deliveries_total", ["platform": "android", "result": result]) == count)
            }
        }
    }

    @Test func anUnansweredCallIsMissedAfterTheRingTimeout() async throws {
        try await CallWorld.run { world in
            try await world.fund(world.alpha, 500)
            let started = try await world.startCall(world.alpha)
            let callID = try #require((started.json["call"] as? [String: Any])?["id"] as? String)
            let room = try #require((started.json["livekit"] as? [String: Any])?["room"] as? String)
            world.clock.advance(by: .seconds(31))
            try await world.eventually("the call is missed") {
                try await world.call(callID, token: world.alpha.endUserToken)["status"] as? String == "missed"
            }
            try await world.eventually("the room is deleted") { world.liveKit.deletedRooms.contains(room) }
            #expect(try await world.presence(of: world.alpha) == "available")
            #expect(try await world.balance(world.alpha) == 500)
            // Too late to answer now.
            let late = try await world.http.send(.post, "/v1/calls/\(callID)/accept", token: world.alpha.advisorToken)
            #expect(late.status == .conflict)
        }
    }

    @Test func declinedCancelledAndEndedCallsFreeTheAdvisorAndChargeOnlyWhatWasUsed() async throws {
        try await CallWorld.run { world in
            let alpha = world.alpha
            try await world.fund(alpha, 1_000)
            // Declined: nothing charged.
            var callID = try #require((try await world.startCall(alpha).json["call"] as? [String: Any])?["id"] as? String)
            var callIDs = [callID]
            #expect(try await world.http.send(.post, "/v1/calls/\(callID)/decline", token: alpha.advisorToken).status == .ok)
            #expect(try await world.call(callID, token: alpha.endUserToken)["status"] as? String == "declined")
            // Cancelled by the caller while ringing: nothing charged; a second cancel changes nothing.
            world.clock.advance(by: .seconds(1))
            callID = try #require((try await world.startCall(alpha).json["call"] as? [String: Any])?["id"] as? String)
            callIDs.append(callID)
            #expect(try await world.http.send(.post, "/v1/calls/\(callID)/cancel", token: alpha.endUserToken).status == .ok)
            #expect(try await world.http.send(.post, "/v1/calls/\(callID)/cancel", token: alpha.endUserToken).status == .ok)
            #expect(try await world.call(callID, token: alpha.endUserToken)["status"] as? String == "cancelled")
            #expect(try await world.balance(alpha) == 1_000)
            // Answered, then hung up during the first increment: that increment is paid, no more.
            world.clock.advance(by: .seconds(1))
            callID = try #require((try await world.startCall(alpha).json["call"] as? [String: Any])?["id"] as? String)
            callIDs.append(callID)
            #expect(try await world.http.send(.post, "/v1/calls/\(callID)/accept", token: alpha.advisorToken).status == .ok)
            // Answered, the call is on the billing engine's due list; ended, it leaves it.
            #expect(try await world.count("SELECT count(*) FROM call_billing_due WHERE call_id = '\(callID.lowercased())'") == 1)
            world.clock.advance(by: .seconds(20))
            let ended = try await world.http.send(.post, "/v1/calls/\(callID)/end", token: alpha.endUserToken)
            #expect(ended.status == .ok, "\(ended.text)")
            #expect(try await world.call(callID, token: alpha.endUserToken)["end_reason"] as? String == "caller_ended")
            world.clock.advance(by: .seconds(120))
            try await Task.sleep(for: .milliseconds(100))
            #expect(try await world.balance(alpha) == 880)
            #expect(try await world.presence(of: alpha) == "available")
            // The history lists all three, newest first.
            let history = try await world.http.send(.get, "/v1/calls?limit=10", token: alpha.endUserToken)
            let statuses = (history.json["data"] as? [[String: Any]])?.compactMap { $0["status"] as? String }
            #expect(statuses == ["ended", "cancelled", "declined"])
            // Call ids are version 7 (migration 0016), in the order the calls were made, and name their rooms.
            let times = callIDs.compactMap { UUID(uuidString: $0)?.version7Milliseconds }
            #expect(times.count == 3 && times == times.sorted(), "\(callIDs)")
            #expect(Set(callIDs).count == 3)
            let named = callIDs.map { "'\($0.lowercased())'" }.joined(separator: ", ")
            #expect(try await world.count("SELECT count(*) FROM calls WHERE id IN (\(named)) AND room_name = 'call-' || id") == 3)
            #expect(try await world.count("SELECT count(*) FROM call_billing_due") == 0)
            #expect(try await world.count(CallBillingDueList.mismatchesSQL) == 0)
        }
    }

    @Test func refusalsAreDistinctProblemsAndChangeNothing() async throws {
        try await CallWorld.run { world in
            let alpha = world.alpha
            // No money: 402.
            var reply = try await world.startCall(alpha)
            #expect(reply.status.code == 402)
            #expect(reply.string("type") == "urn:talktime:problem:insufficient-funds")
            #expect(reply.headers[.contentType] == "application/problem+json")
            #expect(world.liveKit.rooms.isEmpty)
            #expect(try await world.presence(of: alpha) == "available")

            try await world.fund(alpha, 1_000)
            // The Advisor offline: 409.
            _ = try await world.http.send(.patch, "/v1/advisors/me", json: ["presence": "offline"], token: alpha.advisorToken)
            reply = try await world.startCall(alpha)
            #expect(reply.status == .conflict)
            #expect(reply.string("type") == "urn:talktime:problem:advisor-not-available")
            _ = try await world.http.send(.patch, "/v1/advisors/me", json: ["presence": "available"], token: alpha.advisorToken)

            // Already in a call: 409, a different problem.
            #expect(try await world.startCall(alpha).status == .created)
            reply = try await world.startCall(alpha)
            #expect(reply.status == .conflict)
            #expect(reply.string("type") == "urn:talktime:problem:already-in-call")

            // The Licensee's concurrent-call limit: 429, for a second caller to a second Advisor.
            _ = try await world.world.superuser("UPDATE licensees SET max_concurrent_calls = 1 WHERE slug = 'alpha'")
            let second = try await world.secondCaller(of: alpha)
            let invitation = try await world.http.send(
                .post, "/v1/admin/invitations", json: ["email": "advisor2@alpha.example", "role": "advisor"], token: alpha.adminToken)
            let advisor2 = try await IdentityWorld.accept(invitation, displayName: "second advisor", http: world.http)
            try await world.approveAdvisor(of: alpha, token: advisor2)
            let advisor2ID = try await world.id(of: advisor2)
            reply = try await world.http.send(
                .post, "/v1/calls", json: ["advisor_id": advisor2ID.uuidString], token: second, headers: [.idempotencyKey: UUID().uuidString])
            #expect(reply.status == .tooManyRequests)
            #expect(reply.string("type") == "urn:talktime:problem:concurrent-call-limit")

            // A suspended licence: 403.
            _ = try await world.world.superuser("UPDATE licensees SET licence_status = 'suspended', max_concurrent_calls = 100 WHERE slug = 'alpha'")
            reply = try await world.http.send(
                .post, "/v1/calls", json: ["advisor_id": advisor2ID.uuidString], token: second, headers: [.idempotencyKey: UUID().uuidString])
            #expect(reply.status == .forbidden)
            #expect(reply.string("type") == "urn:talktime:problem:licence-inactive")
            #expect(try await world.count("SELECT count(*) FROM calls") == 1)
        }
    }

    @Test func anotherTenantsCallIsNotFound() async throws {
        try await CallWorld.run { world in
            try await world.fund(world.alpha, 500)
            let callID = try #require((try await world.startCall(world.alpha).json["call"] as? [String: Any])?["id"] as? String)
            let beta = world.beta
            for (method, path, token) in [
                (HTTPRequest.Method.get, "/v1/calls/\(callID)", beta.endUserToken),
                (.get, "/v1/calls/\(callID)", beta.adminToken),
                (.get, "/v1/calls/\(callID)/token", beta.endUserToken),
                (.post, "/v1/calls/\(callID)/accept", beta.advisorToken),
                (.post, "/v1/calls/\(callID)/decline", beta.advisorToken),
                (.post, "/v1/calls/\(callID)/cancel", beta.endUserToken),
                (.post, "/v1/calls/\(callID)/end", beta.endUserToken),
            ] {
                let reply = try await world.http.send(method, path, token: token)
                #expect(reply.status == .notFound, "\(method) \(path): \(reply.status)")
            }
            // Nor may beta's End User call alpha's Advisor.
            let alphaAdvisor = try await world.id(of: world.alpha.advisorToken)
            let reply = try await world.http.send(
                .post, "/v1/calls", json: ["advisor_id": alphaAdvisor.uuidString], token: beta.endUserToken,
                headers: [.idempotencyKey: UUID().uuidString])
            #expect(reply.status == .notFound)
            #expect(try await world.call(callID, token: world.alpha.endUserToken)["status"] as? String == "ringing")
        }
    }

    @Test func startingACallIsIdempotent() async throws {
        try await CallWorld.run { world in
            try await world.fund(world.alpha, 500)
            let first = try await world.startCall(world.alpha, key: "same-key")
            let again = try await world.startCall(world.alpha, key: "same-key")
            #expect(first.status == .created)
            #expect(again.status == .created)
            #expect(first.body == again.body)
            #expect(try await world.count("SELECT count(*) FROM calls") == 1)
        }
    }

    @Test func aFreshTokenForALiveCallOnly() async throws {
        try await CallWorld.run { world in
            try await world.fund(world.alpha, 500)
            let started = try await world.startCall(world.alpha)
            let callID = try #require((started.json["call"] as? [String: Any])?["id"] as? String)
            let fresh = try await world.http.send(.get, "/v1/calls/\(callID)/token", token: world.alpha.endUserToken)
            #expect(fresh.status == .ok)
            let token = try #require((fresh.json["livekit"] as? [String: Any])?["token"] as? String)
            #expect(try await world.liveKit.verifyToken(token).video?.room == (started.json["livekit"] as? [String: Any])?["room"] as? String)
            // The Advisor gets one only once they answered; nobody once the call is over.
            #expect(try await world.http.send(.get, "/v1/calls/\(callID)/token", token: world.alpha.advisorToken).status == .conflict)
            _ = try await world.http.send(.post, "/v1/calls/\(callID)/cancel", token: world.alpha.endUserToken)
            #expect(try await world.http.send(.get, "/v1/calls/\(callID)/token", token: world.alpha.endUserToken).status == .conflict)
        }
    }
}

extension CallWorld {
    /// Registers another End User of the tenant and returns their access token.
    func secondCaller(of tenant: IdentityWorld.Tenant) async throws -> String {
        let email = "second-\(UUID().uuidString.prefix(8))@\(tenant.slug).example"
        let registered = try await http.send(
            .post, "/v1/auth/register", json: ["email": email, "password": IdentityWorld.password, "display_name": "second"], licensee: tenant.slug)
        let token = try #require(registered.string("access_token"), "register: \(registered.text)")
        let user = try await id(of: token)
        let reply = try await http.send(
            .post, "/v1/admin/users/\(user.uuidString)/wallet/adjustments", json: ["amount": 1_000, "reason": "test credit"],
            token: tenant.adminToken, headers: [.idempotencyKey: UUID().uuidString])
        #expect(reply.status == .created, "adjustment: \(reply.text)")
        return token
    }

    func count(_ sql: String) async throws -> Int {
        try await world.superuser(sql).first?.decode(Int.self) ?? -1
    }
}
