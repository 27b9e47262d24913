import Foundation
import Hummingbird
import HummingbirdTesting
import TalktimeCore
import TalktimeTestSupport
import Testing

@testable import Talktime

/// Every policy of the rate limit table, driven past its limit; and one limit shared by two servers.
@Suite struct RateLimitTests {
    /// A request to `route` for the n-th distinct account.
    func request(for route: String, account index: Int, world: IdentityWorld) -> (
        HTTPRequest.Method, String, [String: any Sendable], String?, String?
    ) {
        switch route {
        case "POST /v1/auth/login":
            (.post, "/v1/auth/login", ["email": "someone\(index)@alpha.example", "password": "wrong password"], nil, "alpha")
        case "POST /v1/auth/register":
            (
                .post, "/v1/auth/register", ["email": "new\(index)@alpha.example", "password": IdentityWorld.password, "display_name": "n"], nil,
                "alpha"
            )
        case "POST /v1/auth/refresh":
            (.post, "/v1/auth/refresh", ["refresh_token": "rt_forged\(index)"], nil, nil)
        case "POST /v1/auth/password-reset":
            (.post, "/v1/auth/password-reset", ["email": "someone\(index)@alpha.example"], nil, "alpha")
        case "POST /v1/auth/password-reset/confirm":
            (.post, "/v1/auth/password-reset/confirm", ["token": "pwr_forged", "password": IdentityWorld.password], nil, nil)
        case "POST /v1/auth/invitations/accept":
            (.post, "/v1/auth/invitations/accept", ["token": "inv_forged", "password": IdentityWorld.password, "display_name": "x"], nil, nil)
        case "POST /v1/auth/password":
            (.post, "/v1/auth/password", ["current_password": "wrong password", "new_password": "whatever new pass"], world.alpha.endUserToken, nil)
        case "POST /v1/calls":
            (.post, "/v1/calls", ["advisor_id": UUID().uuidString], world.alpha.endUserToken, nil)
        case "GET /v1/calls/{id}/token":
            (.get, "/v1/calls/\(UUID().uuidString)/token", [:], world.alpha.endUserToken, nil)
        case "POST /v1/webhooks/livekit":
            (.post, "/v1/webhooks/livekit", ["event": "room_finished"], nil, nil)
        case "POST /v1/webhooks/stripe":
            (.post, "/v1/webhooks/stripe", ["id": "evt_\(index)", "type": "payment_intent.succeeded"], nil, nil)
        // Refused by validation, so that no payment is created: only the limit is under test.
        case "POST /v1/wallet/top-ups":
            (.post, "/v1/wallet/top-ups", ["amount": 0], world.alpha.endUserToken, nil)
        default:
            (.get, "/unmapped", [:], nil, nil)
        }
    }

    @Test(arguments: RateLimitTable.policies.flatMap { route, policies in policies.map { RoutePolicy(route: route, policy: $0) } })
    func theRequestPastTheLimitIs429WithHeaders(_ subject: RoutePolicy) async throws {
        try await IdentityWorld.run(["TRUSTED_PROXIES": "127.0.0.1,::1"], transport: .live) { world in
            let policy = subject.policy
            let refusal = try await Self.driveUntilRefused(policy) { attempt in
                // Keep the policy's key fixed and vary everything else, so that only this policy can refuse.
                let account = policy.key == .account ? 0 : attempt
                let address = policy.key == .clientAddress ? "198.51.100.7" : "203.0.113.\(attempt % 250 + 1)"
                let (method, uri, body, token, licensee) = request(for: subject.route, account: account, world: world)
                #expect(uri != "/unmapped", "no request is mapped for \(subject.route): add one to this test")
                return try await world.http.send(method, uri, json: body, token: token, licensee: licensee, headers: [.xForwardedFor: address])
            }
            let refused = try #require(refusal)
            #expect(refused.status == .tooManyRequests, "\(policy.name): \(refused.status) \(refused.text)")
            #expect(refused.string("type") == ProblemType.rateLimited)
            #expect(Int(refused.headers[.retryAfter] ?? "") ?? 0 >= 1)
            #expect(refused.headers[.rateLimitPolicy]?.contains("\"\(policy.name)\";q=\(policy.limit);w=\(policy.window.components.seconds)") == true)
            #expect(refused.headers[.rateLimit]?.contains("\"\(policy.name)\";r=0;") == true)
        }
    }

    @Test func forwardedAddressesCountOnlyFromTrustedProxies() async throws {
        // No trusted proxy: the forwarded header is the client's own claim and changes nothing.
        try await IdentityWorld.run(transport: .live) { world in
            // login-ip allows 20 a minute: refused at about the 21st, however the header varies. (The world's
            // platform admin logged in once from this address already.)
            let policy = RateLimitTable.policies(for: "POST /v1/auth/login", key: .clientAddress)[0]
            let refused = try await Self.driveUntilRefused(policy, alreadyUsed: 1) { attempt in
                try await world.http.send(
                    .post, "/v1/auth/login", json: ["email": "x\(attempt)@alpha.example", "password": "wrong password"], licensee: "alpha",
                    headers: [.xForwardedFor: "203.0.113.\(attempt + 1)"])
            }
            #expect(refused?.status == .tooManyRequests)
        }
    }

    @Test func twoServersOnOnePostgresStoreShareTheLimit() async throws {
        try await TestPostgres.withDatabase { database in
            let configuration = try makeConfiguration(["RATE_LIMIT_STORE": "postgres"], database: database)
            let first = try await buildApplication(configuration: configuration, logger: TestPostgres.logger)
            let second = try await buildApplication(configuration: configuration, logger: TestPostgres.logger)
            try await first.testShuttingDownInOrder(.router) { one in
                try await second.testShuttingDownInOrder(.router) { two in
                    let servers = [TestHTTP(client: one), TestHTTP(client: two)]
                    // login-ip allows 20 a minute per client address, whichever server answers.
                    let policy = RateLimitTable.policies(for: "POST /v1/auth/login", key: .clientAddress)[0]
                    let refused = try await Self.driveUntilRefused(policy) { attempt in
                        try await servers[attempt % 2].send(
                            .post, "/v1/auth/login", json: ["email": "x\(attempt)@nowhere.example", "password": "wrong password"])
                    }
                    #expect(refused?.status == .tooManyRequests)
                }
            }
        }
    }
}

extension RateLimitTests {
    /// Sends requests until one is refused, and checks it came neither early nor late. GCRA lets one more request
    /// through per `window / limit` that passes, so a slow machine may see a few more than `limit` accepted.
    static func driveUntilRefused(
        _ policy: RateLimitPolicy, alreadyUsed: Int = 0, send: (Int) async throws -> TestHTTP.Reply
    ) async throws -> TestHTTP.Reply? {
        let start = ContinuousClock.now
        // A high limit regains many requests while the test sends the first ones: room for that, checked below.
        let attempts = policy.limit * 2 + 20
        for attempt in 0..<attempts {
            let reply = try await send(attempt)
            guard reply.status == .tooManyRequests else { continue }
            let elapsed = ContinuousClock.now - start
            let regained = Int(Double(elapsed.components.seconds + 1) * Double(policy.limit) / Double(policy.window.components.seconds))
            #expect(attempt >= policy.limit - alreadyUsed, "\(policy.name) refused request \(attempt + 1) of \(policy.limit)")
            #expect(attempt <= policy.limit + regained, "\(policy.name) let \(attempt) through in \(elapsed)")
            return reply
        }
        Issue.record("\(policy.name) never refused in \(attempts) requests")
        return nil
    }
}

/// One row of the rate limit table, as a test argument.
struct RoutePolicy: Sendable, CustomTestStringConvertible {
    let route: String
    let policy: RateLimitPolicy

    var testDescription: String { "\(policy.name) on \(route)" }
}
