import Foundation
import Hummingbird
import TalktimeSecurity
import TalktimeTestSupport
import Testing

@testable import Talktime

/// Every way of presenting a token that must not work, each answered 401 by `GET /v1/me`.
@Suite struct AccessTokenAttackTests {
    /// The signing key the application under test uses.
    static let keys = try! AccessTokenKeys(signingKeyID: "primary", signingKeySeed: Array(Data(base64Encoded: testSigningKey)!))

    /// Forged tokens carry the claims of a real account so that only the forged part can fail.
    func realClaims(_ world: IdentityWorld) async throws -> [String: Any] {
        let me = try await world.http.send(.get, "/v1/me", token: world.alpha.endUserToken)
        let parts = world.alpha.endUserToken.split(separator: ".")
        let payload = try #require(Base64URL.decode(String(parts[1])))
        let claims = try #require(try JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any])
        #expect(claims["sub"] as? String == me.string("id")?.lowercased())
        return claims
    }

    @Test func theUntouchedForgeryBaselineIsAccepted() async throws {
        // Proves the forge makes tokens the server accepts, so each refusal below is down to its one change.
        try await IdentityWorld.run { world in
            let forge = TokenForge(keys: Self.keys, now: Date())
            let token = forge.token(header: ["alg": "EdDSA", "typ": "JWT", "kid": "primary"], claims: try await realClaims(world))
            #expect(try await world.http.send(.get, "/v1/me", token: token).status == .ok)
        }
    }

    @Test func everyAttackIsRefusedWith401() async throws {
        try await IdentityWorld.run { world in
            let claims = try await realClaims(world)
            let now = Date()
            let forge = TokenForge(keys: Self.keys, now: now)
            let header: [String: Any] = ["alg": "EdDSA", "typ": "JWT", "kid": "primary"]
            func with(_ key: String, _ value: Any?) -> [String: Any] {
                var copy = claims
                copy[key] = value
                return copy
            }
            let valid = forge.token(header: header, claims: claims)
            let parts = valid.split(separator: ".").map(String.init)
            var flipped = Base64URL.decode(parts[2])!
            flipped[5] ^= 0x20

            let attacks: [(String, String)] = [
                ("alg none", forge.unsignedToken(claims: claims)),
                (
                    "HS256 keyed with the public key",
                    forge.hmacToken(header: ["alg": "HS256", "typ": "JWT", "kid": "primary"], claims: claims, secret: Self.keys.signingPublicKey)
                ),
                ("ES256 header on an EdDSA signature", forge.token(header: ["alg": "ES256", "typ": "JWT", "kid": "primary"], claims: claims)),
                ("unknown kid", forge.token(header: ["alg": "EdDSA", "typ": "JWT", "kid": "retired"], claims: claims)),
                ("stripped signature", parts[0] + "." + parts[1] + "."),
                ("altered signature", parts[0] + "." + parts[1] + "." + Base64URL.encode(flipped)),
                ("altered payload", parts[0] + "." + TokenForge.segment(with("role", "licensee_admin")) + "." + parts[2]),
                (
                    "another key under our kid",
                    TokenForge(keys: AccessTokenKeys.generate(keyID: "primary"), now: now).token(header: header, claims: claims)
                ),
                ("expired", forge.token(header: header, claims: with("exp", now.timeIntervalSince1970 - 1))),
                ("not yet valid", forge.token(header: header, claims: with("nbf", now.timeIntervalSince1970 + 300))),
                ("wrong issuer", forge.token(header: header, claims: with("iss", "evil"))),
                ("wrong audience", forge.token(header: header, claims: with("aud", ["other-api"]))),
                ("refresh token use", forge.token(header: header, claims: with("token_use", "refresh"))),
                ("stale generation", forge.token(header: header, claims: with("gen", 7))),
                ("unknown session", forge.token(header: header, claims: with("sid", UUID().uuidString.lowercased()))),
                ("role escalation, well signed", forge.token(header: header, claims: with("role", "licensee_admin"))),
                ("other tenant, well signed", forge.token(header: header, claims: with("lic", world.beta.id.uuidString.lowercased()))),
                ("a refresh token", world.alpha.endUserRefreshToken),
                (
                    "a LiveKit room token",
                    forge.hmacToken(
                        header: ["alg": "HS256", "typ": "JWT"],
                        claims: [
                            "iss": "APIkey", "sub": claims["sub"]!, "exp": now.timeIntervalSince1970 + 600, "video": ["roomJoin": true, "room": "r"],
                        ],
                        secret: Array(repeating: 1, count: 32))
                ),
                ("garbage", "not-a-token"),
                ("revoked API key", "ttk_" + String(repeating: "A", count: 64)),
            ]
            for (name, token) in attacks {
                let reply = try await world.http.send(.get, "/v1/me", token: token)
                #expect(reply.status == .unauthorized, "\(name): \(reply.status) \(reply.text)")
                #expect(reply.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true, "\(name)")
            }
            // No credential at all, and a credential in the wrong scheme.
            #expect(try await world.http.send(.get, "/v1/me").status == .unauthorized)
            let basic = try await world.http.send(.get, "/v1/me", headers: [.authorization: "Basic \(valid)"])
            #expect(basic.status == .unauthorized)
        }
    }

    @Test func aBlockedUsersTokenIsRefused() async throws {
        try await IdentityWorld.run { world in
            // Blocked by their admin: refused at the very next request.
            let beta = try await world.id(of: world.beta.endUserToken)
            let blocked = try await world.http.send(.post, "/v1/admin/users/\(beta)/block", token: world.beta.adminToken)
            #expect(blocked.status == .noContent)
            #expect(try await world.http.send(.get, "/v1/me", token: world.beta.endUserToken).status == .unauthorized)

            // Blocked behind the service's back (SQL, no generation bump), after the server has remembered that the
            // token stands: refused as soon as PostgreSQL's notification of the change arrives.
            let alpha = try await world.id(of: world.alpha.endUserToken)
            _ = try await world.superuser("UPDATE users SET status = 'blocked' WHERE id = '\(alpha)'")
            try await eventually("the token of a user blocked in SQL is refused", within: .seconds(5)) {
                try await world.http.send(.get, "/v1/me", token: world.alpha.endUserToken).status == .unauthorized
            }
        }
    }

    @Test func jwksPublishesTheVerificationKey() async throws {
        try await IdentityWorld.run { world in
            let reply = try await world.http.send(.get, "/.well-known/jwks.json")
            #expect(reply.status == .ok)
            let keys = try #require(reply.json["keys"] as? [[String: Any]])
            #expect(keys.count == 1)
            #expect(keys[0]["kid"] as? String == "primary")
            #expect(keys[0]["x"] as? String == Base64URL.encode(Self.keys.signingPublicKey))
            #expect(keys[0]["d"] == nil)
        }
    }
}
