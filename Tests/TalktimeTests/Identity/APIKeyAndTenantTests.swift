import Foundation
import Hummingbird
import Testing

@testable import Talktime

/// API keys, and admins reaching for another Licensee's objects: always 404, never 403.
@Suite struct APIKeyAndTenantTests {
    @Test func keysAreShownOnceStoredHashedListedAndRevocable() async throws {
        try await IdentityWorld.run { world in
            let created = try await world.http.send(
                .post, "/v1/admin/api-keys", json: ["name": "billing", "scopes": ["calls:read"]], token: world.alpha.adminToken)
            #expect(created.status == .created)
            let key = try #require(created.string("key"))
            let id = try #require(created.string("id"))
            #expect(key.hasPrefix("ttk_"))
            #expect(created.string("prefix") == String(key.prefix(12)))

            let listed = try await world.http.send(.get, "/v1/admin/api-keys", token: world.alpha.adminToken)
            let items = try #require(listed.json["data"] as? [[String: Any]])
            #expect(items.count == 2)
            #expect(items.allSatisfy { $0["key"] == nil })
            let stored = try await world.superuser("SELECT encode(key_hash, 'hex') FROM api_keys")
            #expect(try stored.allSatisfy { try !key.contains($0.decode(String.self)) })
            #expect(try await world.superuser("SELECT count(*) FROM api_keys WHERE display_prefix || '' = '\(key)'").first?.decode(Int.self) == 0)

            // The key authenticates (its scopes admit no identity route, hence 403 rather than 401) and is seen used.
            #expect(try await world.http.send(.get, "/v1/me", token: key).status == .forbidden)
            let used = try await world.superuser("SELECT last_used_at IS NOT NULL FROM api_keys WHERE id = '\(id)'")
            #expect(try used.first?.decode(Bool.self) == true)

            #expect(try await world.http.send(.delete, "/v1/admin/api-keys/\(id)", token: world.alpha.adminToken).status == .noContent)
            #expect(try await world.http.send(.get, "/v1/me", token: key).status == .unauthorized)
            let audit = try await world.superuser("SELECT action FROM audit_log WHERE target_id = '\(id)' ORDER BY id")
            #expect(try audit.map { try $0.decode(String.self) } == ["api_key.created", "api_key.revoked"])
        }
    }

    @Test func badKeyRequestsAreRefused() async throws {
        try await IdentityWorld.run { world in
            let noScopes = try await world.http.send(
                .post, "/v1/admin/api-keys", json: ["name": "x", "scopes": [String]()], token: world.alpha.adminToken)
            #expect(noScopes.status == .unprocessableContent)
            let unknownScope = try await world.http.send(
                .post, "/v1/admin/api-keys", json: ["name": "x", "scopes": ["root:everything"]], token: world.alpha.adminToken)
            #expect(unknownScope.status == .badRequest)
            let noName = try await world.http.send(
                .post, "/v1/admin/api-keys", json: ["name": "  ", "scopes": ["calls:read"]], token: world.alpha.adminToken)
            #expect(noName.status == .unprocessableContent)
            #expect(try await world.http.send(.delete, "/v1/admin/api-keys/not-a-uuid", token: world.alpha.adminToken).status == .notFound)
        }
    }

    @Test func anotherLicenseesObjectsAreNotFound() async throws {
        try await IdentityWorld.run { world in
            // beta's API key and beta's user, addressed by alpha's admin with their real ids.
            let betaKeys = try await world.http.send(.get, "/v1/admin/api-keys", token: world.beta.adminToken)
            let betaKeyID = try #require((betaKeys.json["data"] as? [[String: Any]])?.first?["id"] as? String)
            let betaUser = try await world.http.send(.get, "/v1/me", token: world.beta.endUserToken)
            let betaUserID = try #require(betaUser.string("id"))

            let revoke = try await world.http.send(.delete, "/v1/admin/api-keys/\(betaKeyID)", token: world.alpha.adminToken)
            #expect(revoke.status == .notFound)
            let block = try await world.http.send(.post, "/v1/admin/users/\(betaUserID)/block", token: world.alpha.adminToken)
            #expect(block.status == .notFound)
            let invite = try await world.http.send(
                .post, "/v1/admin/invitations", json: ["email": "spy@beta.example", "role": "advisor", "licensee_id": world.beta.id.uuidString],
                token: world.alpha.adminToken)
            #expect(invite.status == .notFound)
            // Nothing changed for beta.
            #expect(try await world.http.send(.get, "/v1/me", token: world.beta.endUserToken).status == .ok)
            #expect(try await world.http.send(.get, "/v1/me", token: world.beta.apiKey).status == .forbidden)
            let alphaKeys = try await world.http.send(.get, "/v1/admin/api-keys", token: world.alpha.adminToken)
            #expect((alphaKeys.json["data"] as? [[String: Any]])?.contains { $0["id"] as? String == betaKeyID } == false)
        }
    }

    @Test func aPlatformAdminInvitesIntoAnyLicenseeButNotIntoNone() async throws {
        try await IdentityWorld.run { world in
            let missing = try await world.http.send(
                .post, "/v1/admin/invitations", json: ["email": "a@beta.example", "role": "advisor"], token: world.platformAdminToken)
            #expect(missing.status == .unprocessableContent)
            let unknown = try await world.http.send(
                .post, "/v1/admin/invitations", json: ["email": "a@x.example", "role": "advisor", "licensee_id": UUID().uuidString],
                token: world.platformAdminToken)
            #expect(unknown.status == .notFound)
            let endUser = try await world.http.send(
                .post, "/v1/admin/invitations", json: ["email": "a@beta.example", "role": "end_user", "licensee_id": world.beta.id.uuidString],
                token: world.platformAdminToken)
            #expect(endUser.status == .unprocessableContent)
        }
    }
}
