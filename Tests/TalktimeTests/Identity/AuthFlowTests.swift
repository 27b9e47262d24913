import Foundation
import Hummingbird
import HummingbirdBcrypt
import Testing

@testable import Talktime

/// The identity flows end to end, through the real application and PostgreSQL.
@Suite struct AuthFlowTests {
    let password = IdentityWorld.password

    @Test func registeredUsersLogInAndSeeThemselves() async throws {
        try await IdentityWorld.run { world in
            let login = try await world.http.send(
                .post, "/v1/auth/login", json: ["email": world.alpha.endUserEmail, "password": password], licensee: "alpha")
            #expect(login.status == .ok)
            #expect(login.string("token_type") == "Bearer")
            #expect(login.json["expires_in"] as? Int == 900)
            #expect(login.string("refresh_token")?.hasPrefix("rt_") == true)
            let me = try await world.http.send(.get, "/v1/me", token: login.string("access_token"))
            #expect(me.status == .ok)
            #expect(me.string("email") == world.alpha.endUserEmail)
            #expect(me.string("role") == "end_user")
            #expect(me.string("licensee_id") == world.alpha.id.uuidString)
            let renamed = try await world.http.send(.patch, "/v1/me", json: ["display_name": "New Name"], token: login.string("access_token"))
            #expect(renamed.string("display_name") == "New Name")
        }
    }

    @Test func anEmailRegistersOncePerLicensee() async throws {
        try await IdentityWorld.run { world in
            let again = try await world.http.send(
                .post, "/v1/auth/register", json: ["email": "USER@alpha.example", "password": password, "display_name": "x"], licensee: "alpha")
            #expect(again.status == .conflict)
            // The same address is a different account at another Licensee.
            let elsewhere = try await world.http.send(
                .post, "/v1/auth/register", json: ["email": "user@alpha.example", "password": password, "display_name": "x"], licensee: "beta")
            #expect(elsewhere.status == .created)
        }
    }

    @Test func weakPasswordsAndBadInputAreRefused() async throws {
        try await IdentityWorld.run { world in
            // A NUL anywhere in a body is refused before any route sees it (PostgreSQL text cannot hold one).
            let nulEmail = try await world.http.send(
                .post, "/v1/auth/login", json: ["email": "a\u{0}@alpha.example", "password": password], licensee: "alpha")
            #expect(nulEmail.status == .badRequest)
            for weak in ["short", "password123", "user2@alpha.example"] {
                let reply = try await world.http.send(
                    .post, "/v1/auth/register", json: ["email": "user2@alpha.example", "password": weak, "display_name": "x"], licensee: "alpha")
                #expect(reply.status == .unprocessableContent, "\(weak): \(reply.text)")
                #expect(reply.string("type") == ProblemType.passwordRejected)
            }
            let badEmail = try await world.http.send(
                .post, "/v1/auth/register", json: ["email": "not-an-email", "password": password, "display_name": "x"], licensee: "alpha")
            #expect(badEmail.status == .unprocessableContent)
            let noLicensee = try await world.http.send(
                .post, "/v1/auth/register", json: ["email": "u@x.example", "password": password, "display_name": "x"])
            #expect(noLicensee.status == .unprocessableContent)
            let unknownLicensee = try await world.http.send(
                .post, "/v1/auth/register", json: ["email": "u@x.example", "password": password, "display_name": "x"], licensee: "nope")
            #expect(unknownLicensee.status == .notFound)
            // A 64-character passphrase of multi-byte characters (256 bytes: past BCrypt's 72) works end to end.
            let long = String(repeating: "ü", count: 64) + "Ωmega"
            let registered = try await world.http.send(
                .post, "/v1/auth/register", json: ["email": "long@alpha.example", "password": long, "display_name": "x"], licensee: "alpha")
            #expect(registered.status == .created)
            let login = try await world.http.send(
                .post, "/v1/auth/login", json: ["email": "long@alpha.example", "password": long], licensee: "alpha")
            #expect(login.status == .ok)
            let truncated = try await world.http.send(
                .post, "/v1/auth/login", json: ["email": "long@alpha.example", "password": String(long.prefix(36))], licensee: "alpha")
            #expect(truncated.status == .unauthorized)
        }
    }

    @Test func refreshRotatesAndReuseRevokesTheFamily() async throws {
        try await IdentityWorld.run { world in
            let first = world.alpha.endUserRefreshToken
            let second = try await world.http.send(.post, "/v1/auth/refresh", json: ["refresh_token": first])
            #expect(second.status == .ok)
            let secondRefresh = try #require(second.string("refresh_token"))
            #expect(secondRefresh != first)
            let third = try await world.http.send(.post, "/v1/auth/refresh", json: ["refresh_token": secondRefresh])
            #expect(third.status == .ok)
            let newest = try #require(third.string("refresh_token"))
            let newestAccess = try #require(third.string("access_token"))
            #expect(try await world.http.send(.get, "/v1/me", token: newestAccess).status == .ok)

            // The first token comes back: someone holds a copy. The whole family dies, newest included.
            let replay = try await world.http.send(.post, "/v1/auth/refresh", json: ["refresh_token": first])
            #expect(replay.status == .unauthorized)
            #expect(try await world.http.send(.post, "/v1/auth/refresh", json: ["refresh_token": newest]).status == .unauthorized)
            #expect(try await world.http.send(.get, "/v1/me", token: newestAccess).status == .unauthorized)
            let reason = try await world.superuser("SELECT revoked_reason FROM refresh_token_families WHERE revoked_at IS NOT NULL")
            #expect(try reason.map { try $0.decode(String.self) } == ["reuse_detected"])
            // The registration's access token belonged to the same session: it died with it.
            #expect(try await world.http.send(.get, "/v1/me", token: world.alpha.endUserToken).status == .unauthorized)
        }
    }

    @Test func concurrentRefreshesWithOneTokenLetOneThrough() async throws {
        try await IdentityWorld.run { world in
            let token = world.alpha.endUserRefreshToken
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<8 {
                    group.addTask { try await world.http.send(.post, "/v1/auth/refresh", json: ["refresh_token": token]).status }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .ok }.count == 1)
            #expect(statuses.filter { $0 == .unauthorized }.count == 7)
        }
    }

    @Test func logoutEndsTheSessionAndLogoutAllEndsEveryOne() async throws {
        try await IdentityWorld.run { world in
            let email = world.alpha.endUserEmail
            let other = try await world.http.send(.post, "/v1/auth/login", json: ["email": email, "password": password], licensee: "alpha")
            let otherToken = try #require(other.string("access_token"))
            #expect(try await world.http.send(.post, "/v1/auth/logout", token: world.alpha.endUserToken).status == .noContent)
            #expect(try await world.http.send(.get, "/v1/me", token: world.alpha.endUserToken).status == .unauthorized)
            #expect(
                try await world.http.send(.post, "/v1/auth/refresh", json: ["refresh_token": world.alpha.endUserRefreshToken]).status == .unauthorized
            )
            #expect(try await world.http.send(.get, "/v1/me", token: otherToken).status == .ok)

            let third = try await world.http.send(.post, "/v1/auth/login", json: ["email": email, "password": password], licensee: "alpha")
            #expect(try await world.http.send(.post, "/v1/auth/logout-all", token: otherToken).status == .noContent)
            #expect(try await world.http.send(.get, "/v1/me", token: otherToken).status == .unauthorized)
            #expect(try await world.http.send(.get, "/v1/me", token: third.string("access_token")).status == .unauthorized)
            #expect(
                try await world.http.send(.post, "/v1/auth/refresh", json: ["refresh_token": third.string("refresh_token")!]).status
                    == .unauthorized)
        }
    }

    @Test func changingThePasswordRevokesEverythingButTheNewSession() async throws {
        try await IdentityWorld.run { world in
            let wrong = try await world.http.send(
                .post, "/v1/auth/password", json: ["current_password": "not it at all", "new_password": "a brand new passphrase"],
                token: world.alpha.endUserToken)
            #expect(wrong.status == .unauthorized)
            let changed = try await world.http.send(
                .post, "/v1/auth/password", json: ["current_password": password, "new_password": "a brand new passphrase"],
                token: world.alpha.endUserToken)
            #expect(changed.status == .ok)
            #expect(try await world.http.send(.get, "/v1/me", token: world.alpha.endUserToken).status == .unauthorized)
            #expect(try await world.http.send(.get, "/v1/me", token: changed.string("access_token")).status == .ok)
            let old = try await world.http.send(
                .post, "/v1/auth/login", json: ["email": world.alpha.endUserEmail, "password": password], licensee: "alpha")
            #expect(old.status == .unauthorized)
            let new = try await world.http.send(
                .post, "/v1/auth/login", json: ["email": world.alpha.endUserEmail, "password": "a brand new passphrase"], licensee: "alpha")
            #expect(new.status == .ok)
        }
    }

    @Test func passwordResetWorksOnceAndRevokesSessions() async throws {
        try await IdentityWorld.run { world in
            let unknown = try await world.http.send(.post, "/v1/auth/password-reset", json: ["email": "nobody@alpha.example"], licensee: "alpha")
            let known = try await world.http.send(.post, "/v1/auth/password-reset", json: ["email": world.alpha.endUserEmail], licensee: "alpha")
            #expect(unknown.status == .accepted)
            #expect(known.status == .accepted)
            #expect(unknown.body == known.body)
            let outbox = try await world.superuser("SELECT recipient, payload->>'token' FROM email_outbox WHERE template = 'password_reset'")
            #expect(outbox.count == 1)
            let (recipient, token) = try #require(outbox.first).decode((String, String).self)
            #expect(recipient == world.alpha.endUserEmail)

            let confirmed = try await world.http.send(
                .post, "/v1/auth/password-reset/confirm", json: ["token": token, "password": "reset passphrase 2026"])
            #expect(confirmed.status == .noContent)
            #expect(try await world.http.send(.get, "/v1/me", token: world.alpha.endUserToken).status == .unauthorized)
            let again = try await world.http.send(
                .post, "/v1/auth/password-reset/confirm", json: ["token": token, "password": "another passphrase 2026"])
            #expect(again.status == .unauthorized)
            let login = try await world.http.send(
                .post, "/v1/auth/login", json: ["email": world.alpha.endUserEmail, "password": "reset passphrase 2026"], licensee: "alpha")
            #expect(login.status == .ok)
        }
    }

    @Test func invitationsAreSingleUseAndExpire() async throws {
        try await IdentityWorld.run { world in
            let invitation = try await world.http.send(
                .post, "/v1/admin/invitations", json: ["email": "second@alpha.example", "role": "advisor"], token: world.alpha.adminToken)
            let token = try #require(invitation.string("token"))
            let accept: [String: any Sendable] = ["token": token, "password": password, "display_name": "Second"]
            #expect(try await world.http.send(.post, "/v1/auth/invitations/accept", json: accept).status == .created)
            #expect(try await world.http.send(.post, "/v1/auth/invitations/accept", json: accept).status == .unauthorized)

            let late = try await world.http.send(
                .post, "/v1/admin/invitations", json: ["email": "late@alpha.example", "role": "licensee_admin"], token: world.alpha.adminToken)
            _ = try await world.superuser("UPDATE invitations SET expires_at = now() - interval '1 second' WHERE email = 'late@alpha.example'")
            let expired = try await world.http.send(
                .post, "/v1/auth/invitations/accept", json: ["token": try #require(late.string("token")), "password": password, "display_name": "L"])
            #expect(expired.status == .unauthorized)
            // An advisor accepted by invitation has a pending profile.
            let profile = try await world.superuser(
                "SELECT approval_status FROM advisor_profiles p JOIN users u ON u.id = p.user_id WHERE u.email = 'second@alpha.example'")
            #expect(try profile.first?.decode(String.self) == "pending")
        }
    }

    @Test func blockingAUserRevokesTheirTokensAtOnce() async throws {
        try await IdentityWorld.run { world in
            let me = try await world.http.send(.get, "/v1/me", token: world.alpha.endUserToken)
            let userID = try #require(me.string("id"))
            #expect(try await world.http.send(.post, "/v1/admin/users/\(userID)/block", token: world.alpha.adminToken).status == .noContent)
            #expect(try await world.http.send(.get, "/v1/me", token: world.alpha.endUserToken).status == .unauthorized)
            let login = try await world.http.send(
                .post, "/v1/auth/login", json: ["email": world.alpha.endUserEmail, "password": password], licensee: "alpha")
            #expect(login.status == .unauthorized)
            #expect(try await world.http.send(.post, "/v1/admin/users/\(userID)/unblock", token: world.alpha.adminToken).status == .noContent)
            let again = try await world.http.send(
                .post, "/v1/auth/login", json: ["email": world.alpha.endUserEmail, "password": password], licensee: "alpha")
            #expect(again.status == .ok)
        }
    }

    @Test func importedWeakerHashesVerifyAndAreUpgradedAtLogin() async throws {
        try await IdentityWorld.run(["BCRYPT_COST": "5"]) { world in
            // A cost-4 hash written by PHP's password_hash ($2y$), as an import would bring it.
            let imported = "$2y$" + Bcrypt.hash("imported passphrase", cost: 4).dropFirst(4)
            _ = try await world.superuser(
                """
                INSERT INTO users (licensee_id, role, email, password_hash, display_name)
                VALUES ('\(world.alpha.id)', 'end_user', 'imported@alpha.example', '\(imported)', 'Imported')
                """)
            let login = try await world.http.send(
                .post, "/v1/auth/login", json: ["email": "imported@alpha.example", "password": "imported passphrase"], licensee: "alpha")
            #expect(login.status == .ok)
            let stored = try await world.superuser("SELECT password_hash FROM users WHERE email = 'imported@alpha.example'")
            #expect(try stored.first?.decode(String.self).hasPrefix("$2b$05$") == true)
            let again = try await world.http.send(
                .post, "/v1/auth/login", json: ["email": "imported@alpha.example", "password": "imported passphrase"], licensee: "alpha")
            #expect(again.status == .ok)
        }
    }

    @Test func aLoginStormPastThePoolGets503WithRetryAfter() async throws {
        // One hashing thread and no queue: of several logins at once, the ones that find it busy are turned away.
        try await IdentityWorld.run(["BCRYPT_CONCURRENCY": "1", "BCRYPT_QUEUE_LIMIT": "0", "BCRYPT_COST": "10"]) { world in
            let replies = try await withThrowingTaskGroup(of: TestHTTP.Reply.self) { group in
                for index in 0..<6 {
                    group.addTask {
                        try await world.http.send(
                            .post, "/v1/auth/login", json: ["email": "storm\(index)@alpha.example", "password": "wrong password"], licensee: "alpha")
                    }
                }
                return try await group.reduce(into: [TestHTTP.Reply]()) { $0.append($1) }
            }
            let busy = replies.filter { $0.status == .serviceUnavailable }
            #expect(!busy.isEmpty, "\(replies.map(\.status))")
            #expect(busy.allSatisfy { $0.headers[.retryAfter] == "1" && $0.string("type") == ProblemType.busy })
            #expect(replies.allSatisfy { $0.status == .serviceUnavailable || $0.status == .unauthorized })
        }
    }

    @Test func refreshTokensExpireWhenIdleAndSessionsAtTheirAbsoluteEnd() async throws {
        try await IdentityWorld.run { world in
            // Idle: the token was not used in time.
            _ = try await world.superuser("UPDATE refresh_tokens SET idle_expires_at = now() - interval '1 second'")
            let idle = try await world.http.send(.post, "/v1/auth/refresh", json: ["refresh_token": world.alpha.endUserRefreshToken])
            #expect(idle.status == .unauthorized)

            // Absolute: the session is over however fresh its last token, and its access tokens with it.
            let login = try await world.http.send(
                .post, "/v1/auth/login", json: ["email": world.beta.endUserEmail, "password": password], licensee: "beta")
            #expect(try await world.http.send(.get, "/v1/me", token: login.string("access_token")).status == .ok)
            _ = try await world.superuser("UPDATE refresh_token_families SET absolute_expires_at = now() - interval '1 second'")
            let absolute = try await world.http.send(.post, "/v1/auth/refresh", json: ["refresh_token": login.string("refresh_token")!])
            #expect(absolute.status == .unauthorized)
            // Aged in SQL, so the server hears of it by PostgreSQL's notification, within moments.
            try await eventually("the ended session's access token is refused", within: .seconds(5)) {
                try await world.http.send(.get, "/v1/me", token: login.string("access_token")).status == .unauthorized
            }
        }
    }
}
