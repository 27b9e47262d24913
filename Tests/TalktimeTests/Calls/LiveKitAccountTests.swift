import Foundation
import Hummingbird
import TalktimeCore
import TalktimeTestSupport
import Testing

@testable import Talktime

/// A Licensee's own LiveKit project (`/v1/admin/livekit-account`): its calls get rooms and tokens from it, only
/// its own calls listen to webhooks signed with it, its secret is stored sealed, and refused changes change
/// nothing.
@Suite struct LiveKitAccountTests {
    /// The fake projects run on loopback, which production would never allow.
    static let hosts = ["LIVEKIT_LICENSEE_HOSTS": "livekit.cloud,127.0.0.1"]

    /// Beta's admin points beta at `project`.
    func useOwnProject(_ world: CallWorld, _ project: FakeLiveKit) async throws -> TestHTTP.Reply {
        try await world.http.send(
            .put, "/v1/admin/livekit-account",
            json: ["url": project.credentials.serverURL, "api_key": project.apiKey, "api_secret": project.apiSecret],
            token: world.beta.adminToken)
    }

    /// Starts a call of `tenant`'s End User and has the Advisor accept it: the call's id, room and both tokens.
    func answeredCall(_ world: CallWorld, _ tenant: IdentityWorld.Tenant) async throws -> (id: String, room: String, caller: String, advisor: String)
    {
        try await world.fund(tenant, 1_000)
        let started = try await world.startCall(tenant)
        #expect(started.status == .created, "start: \(started.text)")
        let call = try #require(started.json["call"] as? [String: Any])
        let livekit = try #require(started.json["livekit"] as? [String: Any])
        let id = try #require(call["id"] as? String)
        let accepted = try await world.http.send(.post, "/v1/calls/\(id)/accept", token: tenant.advisorToken)
        #expect(accepted.status == .ok, "accept: \(accepted.text)")
        let advisorToken = try #require((accepted.json["livekit"] as? [String: Any])?["token"] as? String)
        return (id, try #require(livekit["room"] as? String), try #require(livekit["token"] as? String), advisorToken)
    }

    @Test func aLicenseesOwnProjectHostsItsRoomsSignsItsTokensAndAloneEndsItsCalls() async throws {
        try await CallWorld.run(Self.hosts) { world in
            try await FakeLiveKit.run { own in
                let set = try await useOwnProject(world, own)
                #expect(set.status == .ok, "set: \(set.text)")
                #expect(set.string("url") == own.credentials.serverURL)
                #expect(set.string("api_key") == own.apiKey)
                #expect(set.json["api_secret"] == nil && !set.text.contains(own.apiSecret))
                let read = try await world.http.send(.get, "/v1/admin/livekit-account", token: world.beta.adminToken)
                #expect(read.status == .ok && read.string("api_key") == own.apiKey && !read.text.contains(own.apiSecret))
                // Alpha has none of its own.
                #expect(try await world.http.send(.get, "/v1/admin/livekit-account", token: world.alpha.adminToken).status == .notFound)

                // Stored sealed under the configured key, bound to beta; audited without the secret.
                let sealed = try #require(
                    try await world.world.superuser("SELECT api_secret_sealed FROM licensee_livekit_accounts").first?.decode(String.self))
                #expect(sealed.hasPrefix("primary:") && !sealed.contains(own.apiSecret))
                let audit = try await world.world.superuser("SELECT details::text FROM audit_log WHERE action = 'livekit_account.set'")
                #expect(audit.count == 1)
                #expect(try audit.first?.decode(String.self).contains(own.apiSecret) == false)

                // Beta's call lives in beta's project: its room there, both tokens signed with beta's key.
                let beta = try await answeredCall(world, world.beta)
                #expect(own.rooms[beta.room] != nil && world.liveKit.rooms[beta.room] == nil)
                #expect(try await own.verifyToken(beta.caller, now: world.clock.now()).iss.value == own.apiKey)
                #expect(try await own.verifyToken(beta.advisor, now: world.clock.now()).iss.value == own.apiKey)
                await #expect(throws: (any Error).self) { try await world.liveKit.verifyToken(beta.caller, now: world.clock.now()) }
                // Alpha's call stays in the platform's project.
                let alpha = try await answeredCall(world, world.alpha)
                #expect(world.liveKit.rooms[alpha.room] != nil && own.rooms[alpha.room] == nil)

                // Neither project's key ends the other's calls.
                let alphaCaller = try await world.id(of: world.alpha.endUserToken).uuidString.lowercased()
                let betaCaller = try await world.id(of: world.beta.endUserToken).uuidString.lowercased()
                let alphaLeft = FakeLiveKit.webhookBody(event: "participant_left", id: "EV_a", room: alpha.room, participant: alphaCaller)
                let byBetasKey = try await own.webhookAuthorization(for: alphaLeft, issuedAt: world.clock.now())
                #expect(try await world.deliverWebhook(alphaLeft, authorization: byBetasKey).status == .ok)
                let betaLeft = FakeLiveKit.webhookBody(event: "participant_left", id: "EV_b1", room: beta.room, participant: betaCaller)
                #expect(try await world.deliverWebhook(betaLeft).status == .ok)
                #expect(try await world.call(alpha.id, token: world.alpha.endUserToken)["status"] as? String == "active")
                #expect(try await world.call(beta.id, token: world.beta.endUserToken)["status"] as? String == "active")
                #expect(try await world.count("SELECT count(*) FROM call_room_events WHERE outcome = 'ignored'") == 2)

                // Beta's own key does.
                let genuine = FakeLiveKit.webhookBody(event: "participant_left", id: "EV_b2", room: beta.room, participant: betaCaller)
                let signed = try await own.webhookAuthorization(for: genuine, issuedAt: world.clock.now())
                #expect(try await world.deliverWebhook(genuine, authorization: signed).status == .ok)
                #expect(try await world.call(beta.id, token: world.beta.endUserToken)["status"] as? String == "ended")
                try await world.eventually("beta's room is deleted in beta's project") { own.deletedRooms == [beta.room] }
                #expect(world.liveKit.deletedRooms.isEmpty)
            }
        }
    }

    @Test func thePlatformsInternalAPIAddressNeverReceivesALicenseesRequests() async throws {
        try await FakeLiveKit.run { own in
            // The platform's own server API at an internal address where nothing listens.
            try await CallWorld.run(Self.hosts.merging(["LIVEKIT_API_BASE_URL": "http://127.0.0.1:9"]) { $1 }) { world in
                #expect(try await useOwnProject(world, own).status == .ok)
                let call = try await answeredCall(world, world.beta)
                #expect(own.rooms[call.room] != nil)
            }
        }
    }

    @Test func removingTheProjectGoesBackToThePlatforms() async throws {
        try await CallWorld.run(Self.hosts) { world in
            try await FakeLiveKit.run { own in
                #expect(try await useOwnProject(world, own).status == .ok)
                let removed = try await world.http.send(.delete, "/v1/admin/livekit-account", token: world.beta.adminToken)
                #expect(removed.status == .noContent)
                #expect(try await world.http.send(.get, "/v1/admin/livekit-account", token: world.beta.adminToken).status == .notFound)
                #expect(try await world.http.send(.delete, "/v1/admin/livekit-account", token: world.beta.adminToken).status == .notFound)
                let call = try await answeredCall(world, world.beta)
                #expect(world.liveKit.rooms[call.room] != nil && own.rooms.isEmpty)
                #expect(try await world.count("SELECT count(*) FROM audit_log WHERE action = 'livekit_account.removed'") == 1)
            }
        }
    }

    @Test func refusedProjectsChangeNothing() async throws {
        try await CallWorld.run(Self.hosts) { world in
            let secret = String(repeating: "s", count: 40)
            let alphas = ["url": "wss://alpha.livekit.cloud", "api_key": "APIalpha", "api_secret": secret]
            #expect(try await world.http.send(.put, "/v1/admin/livekit-account", json: alphas, token: world.alpha.adminToken).status == .ok)

            let refused: [(String, [String: String], HTTPResponse.Status)] = [
                ("another Licensee's key", ["url": "wss://beta.livekit.cloud", "api_key": "APIalpha", "api_secret": secret], .conflict),
                ("the platform's key", ["url": "wss://beta.livekit.cloud", "api_key": world.liveKit.apiKey, "api_secret": secret], .conflict),
                ("another scheme", ["url": "ftp://beta.livekit.cloud", "api_key": "APIbeta", "api_secret": secret], .unprocessableContent),
                ("a path", ["url": "wss://beta.livekit.cloud/rooms", "api_key": "APIbeta", "api_secret": secret], .unprocessableContent),
                (
                    "credentials in the URL", ["url": "wss://user:pw@beta.livekit.cloud", "api_key": "APIbeta", "api_secret": secret],
                    .unprocessableContent
                ),
                (
                    "a host the platform does not allow", ["url": "wss://internal.example", "api_key": "APIbeta", "api_secret": secret],
                    .unprocessableContent
                ),
                ("an address inside the network", ["url": "https://10.0.0.1", "api_key": "APIbeta", "api_secret": secret], .unprocessableContent),
                ("a look-alike host", ["url": "wss://evillivekit.cloud", "api_key": "APIbeta", "api_secret": secret], .unprocessableContent),
                ("a key with a space", ["url": "wss://beta.livekit.cloud", "api_key": "API beta", "api_secret": secret], .unprocessableContent),
                (
                    "a short secret", ["url": "wss://beta.livekit.cloud", "api_key": "APIbeta", "api_secret": String(secret.prefix(31))],
                    .unprocessableContent
                ),
                ("no secret", ["url": "wss://beta.livekit.cloud", "api_key": "APIbeta"], .badRequest),
            ]
            for (what, body, status) in refused {
                let reply = try await world.http.send(.put, "/v1/admin/livekit-account", json: body, token: world.beta.adminToken)
                #expect(reply.status == status, "\(what): \(reply.text)")
                #expect(reply.headers[.contentType] == "application/problem+json", "\(what)")
                #expect(!reply.text.contains(secret), "\(what) repeats the secret")
            }
            for token in [world.beta.endUserToken, world.beta.advisorToken, world.world.platformAdminToken] {
                let body = ["url": "wss://beta.livekit.cloud", "api_key": "APIbeta", "api_secret": secret]
                #expect(try await world.http.send(.put, "/v1/admin/livekit-account", json: body, token: token).status == .forbidden)
                #expect(try await world.http.send(.delete, "/v1/admin/livekit-account", token: token).status == .forbidden)
            }
            #expect(try await world.count("SELECT count(*) FROM licensee_livekit_accounts") == 1)
            #expect(try await world.count("SELECT count(*) FROM audit_log WHERE action LIKE 'livekit_account.%'") == 1)
            // Beta still calls through the platform's project.
            let call = try await answeredCall(world, world.beta)
            #expect(world.liveKit.rooms[call.room] != nil)
        }
    }

    @Test func aSealedSecretCopiedToAnotherLicenseeDoesNotOpen() async throws {
        try await CallWorld.run(Self.hosts) { world in
            try await FakeLiveKit.run { own in
                // Alpha stores its project; someone with write access to the database copies the sealed secret to beta.
                let body = ["url": own.credentials.serverURL, "api_key": own.apiKey, "api_secret": own.apiSecret]
                #expect(try await world.http.send(.put, "/v1/admin/livekit-account", json: body, token: world.alpha.adminToken).status == .ok)
                _ = try await world.world.superuser(
                    """
                    INSERT INTO licensee_livekit_accounts (licensee_id, server_url, api_key, api_secret_sealed)
                    SELECT l.id, a.server_url, 'APIcopied', a.api_secret_sealed
                    FROM licensees l, licensee_livekit_accounts a WHERE l.id <> a.licensee_id AND l.slug = 'beta'
                    """)
                #expect(try await world.count("SELECT count(*) FROM licensee_livekit_accounts") == 2)
                // Beta's calls cannot start (nothing falls back to the platform's project), and webhooks naming the
                // copied key are refused.
                try await world.fund(world.beta, 1_000)
                let started = try await world.startCall(world.beta)
                #expect(started.status == .serviceUnavailable, "start: \(started.text)")
                #expect(own.rooms.isEmpty && world.liveKit.rooms.isEmpty)
                let event = FakeLiveKit.webhookBody(event: "room_finished", id: "EV_c", room: "any")
                let copied = try await own.webhookAuthorization(for: event, issuedAt: world.clock.now(), key: "APIcopied")
                #expect(try await world.deliverWebhook(event, authorization: copied).status == .unauthorized)
                // Alpha's own still works.
                let alpha = try await answeredCall(world, world.alpha)
                #expect(own.rooms[alpha.room] != nil)
            }
        }
    }

    @Test func withoutASecretsKeyOwnProjectsAreSwitchedOff() async throws {
        try await CallWorld.run(Self.hosts.merging(["SECRETS_KEY": ""]) { $1 }) { world in
            let body = ["url": "wss://beta.livekit.cloud", "api_key": "APIbeta", "api_secret": String(repeating: "s", count: 40)]
            let reply = try await world.http.send(.put, "/v1/admin/livekit-account", json: body, token: world.beta.adminToken)
            #expect(reply.status == .serviceUnavailable, "\(reply.text)")
            #expect(try await world.count("SELECT count(*) FROM licensee_livekit_accounts") == 0)
        }
    }
}
