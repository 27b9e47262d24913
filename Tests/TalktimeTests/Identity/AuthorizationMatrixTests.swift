import Foundation
import Hummingbird
import TalktimeCore
import TalktimeTestSupport
import Testing

@testable import Talktime

/// Generated from the endpoints' own access rules: every kind of caller against every route. A caller the rule
/// excludes gets 401 (no credential) or 403 (wrong role); a caller it admits never does.
@Suite struct AuthorizationMatrixTests {
    enum Caller: String, CaseIterable, Sendable {
        case anonymous, platformAdmin, licenseeAdmin, advisor, endUser, apiKey
    }

    func principal(for caller: Caller) -> Principal? {
        let id = UUID()
        return switch caller {
        case .anonymous: nil
        case .platformAdmin: Principal(id: id, role: .platformAdmin, licenseeID: nil, credential: .accessToken(sessionID: id))
        case .licenseeAdmin: Principal(id: id, role: .licenseeAdmin, licenseeID: id, credential: .accessToken(sessionID: id))
        case .advisor: Principal(id: id, role: .advisor, licenseeID: id, credential: .accessToken(sessionID: id))
        case .endUser: Principal(id: id, role: .endUser, licenseeID: id, credential: .accessToken(sessionID: id))
        case .apiKey: Principal(id: id, role: .licenseeAdmin, licenseeID: id, credential: .apiKey(scopes: Set(APIKeyScope.allCases)))
        }
    }

    static let logins: [Caller: (email: String, licensee: String?)] = [
        .platformAdmin: ("root@platform.example", nil), .licenseeAdmin: ("admin@alpha.example", "alpha"),
        .advisor: ("advisor@alpha.example", "alpha"), .endUser: ("user@alpha.example", "alpha"),
    ]

    @Test func noCallerReachesARouteItMustNot() async throws {
        let endpoints = try await AppComponents(configuration: try makeConfiguration(), logger: TestPostgres.logger).endpoints
        // Live, behind the test as a trusted proxy, so that the many logins can come from many addresses.
        try await IdentityWorld.run(["TRUSTED_PROXIES": "127.0.0.1,::1"], transport: .live) { world in
            var tokens: [Caller: String] = [
                .platformAdmin: world.platformAdminToken, .licenseeAdmin: world.alpha.adminToken, .advisor: world.alpha.advisorToken,
                .endUser: world.alpha.endUserToken, .apiKey: world.alpha.apiKey,
            ]
            var checked = 0
            for endpoint in endpoints {
                let uri = endpoint.path.replacingOccurrences(of: "{id}", with: UUID().uuidString)
                let body: [String: any Sendable]? = [.post, .patch, .put].contains(endpoint.method) ? [:] : nil
                for caller in Caller.allCases {
                    let allowed = principal(for: caller).map(endpoint.permits) ?? (endpoint.access == .anonymous)
                    var token = tokens[caller]
                    let spendsSessions = endpoint.path.contains("logout")
                    if spendsSessions, let login = Self.logins[caller] {
                        token = try await world.logIn(login.email, licensee: login.licensee)
                    }
                    let reply = try await world.http.send(endpoint.method, uri, json: body, token: token)
                    if spendsSessions, let login = Self.logins[caller] {
                        // logout-all ended every session of the account, the one the matrix holds included.
                        tokens[caller] = try await world.logIn(login.email, licensee: login.licensee)
                    }
                    // A webhook authenticates its sender by signature, not by account: its 401 is about that.
                    let refusedSignature = reply.status == .unauthorized && reply.string("type") == ProblemType.invalidWebhook
                    if allowed {
                        #expect(
                            refusedSignature || (reply.status != .unauthorized && reply.status != .forbidden),
                            "\(caller) → \(endpoint.route): \(reply.status) \(reply.text)")
                    } else {
                        #expect(reply.status == (caller == .anonymous ? .unauthorized : .forbidden), "\(caller) → \(endpoint.route): \(reply.status)")
                    }
                    checked += 1
                }
            }
            #expect(checked == endpoints.count * Caller.allCases.count)
        }
    }

    @Test func theRulesSayWhatTheProductSays() async throws {
        let endpoints = try await AppComponents(configuration: try makeConfiguration(), logger: TestPostgres.logger).endpoints
        let rules = Dictionary(uniqueKeysWithValues: endpoints.map { ($0.route, $0.access) })
        #expect(rules["POST /v1/admin/api-keys"] == .roles(.licenseeAdmin))
        #expect(rules["POST /v1/admin/invitations"] == .roles(.licenseeAdmin, .platformAdmin))
        #expect(rules["POST /v1/admin/users/{id}/block"] == .roles(.licenseeAdmin))
        #expect(rules["GET /v1/me"] == .anyAccount)
        #expect(rules["POST /v1/auth/login"] == .anonymous)
        #expect(rules["GET /.well-known/jwks.json"] == .anonymous)
    }
}
