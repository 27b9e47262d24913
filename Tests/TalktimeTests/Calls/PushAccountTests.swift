import Foundation
import Hummingbird
import TalktimeCore
import TalktimeTestSupport
import Testing

@testable import Talktime

/// A Licensee's own push credentials (`/v1/admin/push-account`): its Advisors' alerts go out with them, their
/// keys are stored sealed, and refused credentials change nothing.
@Suite struct PushAccountTests {
    /// The application with no FCM account of the platform's, FCM itself at `own` (as Google's one FCM serves
    /// every project), and `own`'s token endpoint as the one key files may name.
    static func settings(_ own: FakeFCM) -> [String: String] {
        ["FCM_SERVICE_ACCOUNT_JSON": "", "FCM_API_BASE_URL": own.baseURL, "FCM_TOKEN_URI": own.tokenURI]
    }

    func register(_ token: String, for tenant: IdentityWorld.Tenant, _ world: CallWorld) async throws {
        let reply = try await world.http.send(.post, "/v1/devices", json: ["platform": "android", "token": token], token: tenant.advisorToken)
        #expect(reply.status == .created, "device: \(reply.text)")
    }

    func callID(_ started: TestHTTP.Reply) throws -> String {
        try #require((started.json["call"] as? [String: Any])?["id"] as? String, "start: \(started.text)")
    }

    @Test func aLicenseesOwnFirebaseProjectCarriesItsAdvisorsAlertsAndNoOneElses() async throws {
        try await FakeFCM.run { own in
            try await CallWorld.run(Self.settings(own)) { world in
                let set = try await world.http.send(
                    .put, "/v1/admin/push-account", json: ["fcm_service_account": own.serviceAccountJSON], token: world.beta.adminToken)
                #expect(set.status == .ok, "set: \(set.text)")
                #expect((set.json["fcm"] as? [String: Any])?["project_id"] as? String == own.projectID)
                #expect((set.json["fcm"] as? [String: Any])?["client_email"] as? String == own.clientEmail)
                #expect(set.json["apns"] == nil && !set.text.contains("-----BEGIN"))
                let read = try await world.http.send(.get, "/v1/admin/push-account", token: world.beta.adminToken)
                #expect(read.status == .ok && !read.text.contains("-----BEGIN"))
                #expect(try await world.http.send(.get, "/v1/admin/push-account", token: world.alpha.adminToken).status == .notFound)
                let sealed = try #require(
                    try await world.world.superuser("SELECT fcm_service_account_sealed FROM licensee_push_accounts").first?.decode(String.self))
                #expect(sealed.hasPrefix("primary:") && !sealed.contains("PRIVATE") && !sealed.contains(own.clientEmail))

                try await register("alpha-advisor-device", for: world.alpha, world)
                try await register("beta-advisor-device", for: world.beta, world)
                try await world.fund(world.alpha, 1_000)
                try await world.fund(world.beta, 1_000)
                _ = try callID(try await world.startCall(world.alpha))
                let beta = try callID(try await world.startCall(world.beta))
                try await world.eventually("beta's Advisor is alerted") { !own.messages.isEmpty }
                // Alpha has no credentials and the platform none either: its Advisor's device gets nothing.
                try await Task.sleep(for: .milliseconds(300))
                #expect(own.messages.map(\.token) == ["beta-advisor-device"])
                #expect(own.messages.first?.data["call_id"] == beta)
                #expect(own.refusals.isEmpty)
            }
        }
    }

    @Test func aSealedKeyCopiedToAnotherLicenseeSendsNothing() async throws {
        try await FakeFCM.run { own in
            try await CallWorld.run(Self.settings(own)) { world in
                let set = try await world.http.send(
                    .put, "/v1/admin/push-account", json: ["fcm_service_account": own.serviceAccountJSON], token: world.alpha.adminToken)
                #expect(set.status == .ok, "set: \(set.text)")
                _ = try await world.world.superuser(
                    """
                    INSERT INTO licensee_push_accounts (licensee_id, fcm_project_id, fcm_client_email, fcm_service_account_sealed)
                    SELECT l.id, a.fcm_project_id, a.fcm_client_email, a.fcm_service_account_sealed
                    FROM licensees l, licensee_push_accounts a WHERE l.slug = 'beta'
                    """)
                try await register("beta-advisor-device", for: world.beta, world)
                try await world.fund(world.beta, 1_000)
                #expect(try await world.startCall(world.beta).status == .created)
                try await Task.sleep(for: .milliseconds(300))
                // The copy does not open for beta, and nothing goes out another way: no token was even asked for.
                #expect(own.messages.isEmpty && own.exchangeCount == 0)
                // Alpha's own still works.
                try await register("alpha-advisor-device", for: world.alpha, world)
                try await world.fund(world.alpha, 1_000)
                #expect(try await world.startCall(world.alpha).status == .created)
                try await world.eventually("alpha's Advisor is alerted") { own.messages.map(\.token) == ["alpha-advisor-device"] }
            }
        }
    }

    @Test func credentialsAreCheckedAndRefusalsChangeNothing() async throws {
        try await FakeAPNs.run { apns in
            try await CallWorld.run { world in
                let google = "https://oauth2.googleapis.com/token"
                let usable = world.fcm.serviceAccountJSON(overriding: ["token_uri": google])
                let apnsKey: [String: String] = [
                    "key_id": apns.keyID, "team_id": apns.teamID, "bundle_id": apns.bundleID, "private_key": apns.privateKeyPEM,
                ]
                let refused: [(String, [String: any Sendable], HTTPResponse.Status)] = [
                    ("nothing", [:], .unprocessableContent),
                    // The service would post a signed assertion wherever the key file says: only Google's endpoint.
                    ("a key file naming another token endpoint", ["fcm_service_account": world.fcm.serviceAccountJSON], .unprocessableContent),
                    ("not JSON", ["fcm_service_account": "{not json"], .unprocessableContent),
                    (
                        "not a service account",
                        ["fcm_service_account": world.fcm.serviceAccountJSON(overriding: ["type": "authorized_user", "token_uri": google])],
                        .unprocessableContent
                    ),
                    (
                        "an unreadable key",
                        [
                            "fcm_service_account": world.fcm.serviceAccountJSON(overriding: [
                                "token_uri": google, "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
                            ])
                        ],
                        .unprocessableContent
                    ),
                    ("a short APNs key id", ["apns": apnsKey.merging(["key_id": "SHORT"]) { $1 }], .unprocessableContent),
                    ("a VoIP bundle id", ["apns": apnsKey.merging(["bundle_id": apns.bundleID + ".voip"]) { $1 }], .unprocessableContent),
                    (
                        "an APNs key that is not P-256", ["apns": apnsKey.merging(["private_key": try FakeFCM.otherPrivateKeyPEM()]) { $1 }],
                        .unprocessableContent
                    ),
                    ("an APNs key without its team", ["apns": apnsKey.filter { $0.key != "team_id" }], .badRequest),
                ]
                for (what, body, status) in refused {
                    let reply = try await world.http.send(.put, "/v1/admin/push-account", json: body, token: world.beta.adminToken)
                    #expect(reply.status == status, "\(what): \(reply.text)")
                    #expect(reply.headers[.contentType] == "application/problem+json", "\(what)")
                    #expect(!reply.text.contains("-----BEGIN"), "\(what) quotes a key")
                }
                for token in [world.beta.endUserToken, world.beta.advisorToken, world.world.platformAdminToken] {
                    #expect(try await world.http.send(.put, "/v1/admin/push-account", json: ["apns": apnsKey], token: token).status == .forbidden)
                    #expect(try await world.http.send(.delete, "/v1/admin/push-account", token: token).status == .forbidden)
                }
                #expect(try await world.count("SELECT count(*) FROM licensee_push_accounts") == 0)
                #expect(try await world.count("SELECT count(*) FROM audit_log WHERE action LIKE 'push_account.%'") == 0)

                // Both at once; read back without keys; removed once.
                let set = try await world.http.send(
                    .put, "/v1/admin/push-account", json: ["fcm_service_account": usable, "apns": apnsKey], token: world.beta.adminToken)
                #expect(set.status == .ok, "set: \(set.text)")
                let read = try await world.http.send(.get, "/v1/admin/push-account", token: world.beta.adminToken)
                #expect((read.json["apns"] as? [String: Any])?["bundle_id"] as? String == apns.bundleID)
                #expect((read.json["fcm"] as? [String: Any])?["project_id"] as? String == world.fcm.projectID)
                #expect(!read.text.contains("-----BEGIN"))
                let stored = try await world.world.superuser(
                    "SELECT fcm_service_account_sealed || apns_private_key_sealed FROM licensee_push_accounts")
                #expect(try stored.first?.decode(String.self).contains("PRIVATE") == false)
                #expect(try await world.http.send(.delete, "/v1/admin/push-account", token: world.beta.adminToken).status == .noContent)
                #expect(try await world.http.send(.get, "/v1/admin/push-account", token: world.beta.adminToken).status == .notFound)
                #expect(try await world.http.send(.delete, "/v1/admin/push-account", token: world.beta.adminToken).status == .notFound)
                #expect(try await world.count("SELECT count(*) FROM audit_log WHERE action LIKE 'push_account.%'") == 2)
            }
        }
    }

    @Test func withoutASecretsKeyOwnCredentialsAreSwitchedOff() async throws {
        try await FakeAPNs.run { apns in
            try await CallWorld.run(["SECRETS_KEY": ""]) { world in
                let body = ["apns": ["key_id": apns.keyID, "team_id": apns.teamID, "bundle_id": apns.bundleID, "private_key": apns.privateKeyPEM]]
                let reply = try await world.http.send(.put, "/v1/admin/push-account", json: body, token: world.beta.adminToken)
                #expect(reply.status == .serviceUnavailable, "\(reply.text)")
                #expect(try await world.count("SELECT count(*) FROM licensee_push_accounts") == 0)
            }
        }
    }
}
