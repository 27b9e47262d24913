import Foundation
import Hummingbird
import HummingbirdTesting
import TalktimeCore
import TalktimeTestSupport
import Testing

@testable import Talktime

/// `IdentityWorld` with calls: the application talks to a fake LiveKit and a fake FCM on loopback and runs on a test clock
/// that starts now (so LiveKit's own clock agrees with it) and moves only when the test moves it. Each tenant's
/// Advisor is approved and available at 120 per minute in 60-second increments.
struct CallWorld: Sendable {
    let world: IdentityWorld
    let liveKit: FakeLiveKit
    let fcm: FakeFCM
    let clock: TestClock

    var http: TestHTTP { world.http }
    var alpha: IdentityWorld.Tenant { world.alpha }
    var beta: IdentityWorld.Tenant { world.beta }

    static func run(_ overrides: [String: String] = [:], test body: @escaping @Sendable (CallWorld) async throws -> Void) async throws {
        try await FakeLiveKit.run { liveKit in
            try await FakeFCM.run { fcm in
                try await run(overrides, liveKit: liveKit, fcm: fcm, test: body)
            }
        }
    }

    private static func run(
        _ overrides: [String: String], liveKit: FakeLiveKit, fcm: FakeFCM, test body: @escaping @Sendable (CallWorld) async throws -> Void
    ) async throws {
        var environment = [
            "FCM_SERVICE_ACCOUNT_JSON": fcm.serviceAccountJSON,
            "FCM_API_BASE_URL": fcm.baseURL,
            "LIVEKIT_URL": liveKit.credentials.serverURL,
            "LIVEKIT_API_KEY": liveKit.apiKey,
            "LIVEKIT_API_SECRET": liveKit.apiSecret,
            "CALL_RING_TIMEOUT_SECONDS": "30",
            "BILLING_POLL_INTERVAL_MS": "10",
        ]
        environment.merge(overrides) { _, new in new }
        let clock = TestClock(Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)))
        try await IdentityWorld.run(environment, clock: clock) { world in
            let calls = CallWorld(world: world, liveKit: liveKit, fcm: fcm, clock: clock)
            for tenant in [world.alpha, world.beta] {
                try await calls.approveAdvisor(of: tenant)
            }
            try await body(calls)
        }
    }

    /// Has the tenant's admin approve the Advisor signed in with `token` (the tenant's first, unless given), who
    /// then sets a rate and becomes available.
    func approveAdvisor(of tenant: IdentityWorld.Tenant, token: String? = nil, rate: Int = 120) async throws {
        let advisor = try await id(of: token ?? tenant.advisorToken)
        let approval = try await http.send(
            .put, "/v1/admin/advisors/\(advisor.uuidString)/approval", json: ["status": "approved"], token: tenant.adminToken)
        #expect(approval.status == .ok, "approval: \(approval.text)")
        let reply = try await http.send(
            .patch, "/v1/advisors/me", json: ["rate_per_minute": rate, "presence": "available"], token: token ?? tenant.advisorToken)
        #expect(reply.status == .ok, "advisor update: \(reply.text)")
    }

    func id(of token: String) async throws -> UUID { try await world.id(of: token) }

    /// Credits the tenant's End User's wallet through the admin adjustment route.
    func fund(_ tenant: IdentityWorld.Tenant, _ amount: Int) async throws {
        let user = try await id(of: tenant.endUserToken)
        let reply = try await http.send(
            .post, "/v1/admin/users/\(user.uuidString)/wallet/adjustments", json: ["amount": amount, "reason": "test credit"],
            token: tenant.adminToken, headers: [.idempotencyKey: UUID().uuidString])
        #expect(reply.status == .created || reply.status == .ok, "adjustment: \(reply.text)")
    }

    /// Starts a call from the tenant's End User to its Advisor.
    func startCall(_ tenant: IdentityWorld.Tenant, token: String? = nil, key: String = UUID().uuidString) async throws -> TestHTTP.Reply {
        let advisor = try await id(of: tenant.advisorToken)
        return try await http.send(
            .post, "/v1/calls", json: ["advisor_id": advisor.uuidString], token: token ?? tenant.endUserToken, headers: [.idempotencyKey: key])
    }

    func call(_ id: String, token: String) async throws -> [String: any Sendable] {
        try await http.send(.get, "/v1/calls/\(id)", token: token).json
    }

    func balance(_ tenant: IdentityWorld.Tenant) async throws -> Int? {
        try await http.send(.get, "/v1/wallet", token: tenant.endUserToken).json["balance"] as? Int
    }

    func presence(of tenant: IdentityWorld.Tenant) async throws -> String? {
        let advisor = try await id(of: tenant.advisorToken)
        return try await http.send(.get, "/v1/advisors/\(advisor.uuidString)", token: tenant.endUserToken).string("presence")
    }

    /// Waits until `condition` holds: the billing engine and the push sender run on their own.
    func eventually(_ what: String, _ condition: @Sendable () async throws -> Bool) async throws {
        try await TalktimeTests.eventually(what, condition)
    }

    /// Signs `body` as livekit-server does and posts it to the webhook route.
    func deliverWebhook(_ body: String, authorization: String? = nil) async throws -> TestHTTP.Reply {
        var headers: HTTPFields = [.contentType: "application/webhook+json"]
        if let authorization {
            headers[.authorization] = authorization
        } else {
            headers[.authorization] = try await liveKit.webhookAuthorization(for: body, issuedAt: clock.now())
        }
        return try await http.send(.post, "/v1/webhooks/livekit", raw: Array(body.utf8), headers: headers)
    }
}
