import Crypto
import Foundation
import TalktimeTestSupport
import Testing

@testable import TalktimeSecurity

/// Tries to get a forged, stale or foreign token past `AccessTokens.verify`.
@Suite struct AccessTokensTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    let keys = AccessTokenKeys.generate(keyID: "current")
    let settings = AccessTokens.Settings(issuer: "talktime-test", audience: "talktime-api", lifetime: .seconds(900))

    func tokens(keys: AccessTokenKeys? = nil, at date: Date = now) async -> AccessTokens {
        await AccessTokens(keys: keys ?? self.keys, settings: settings, now: { date })
    }

    var forge: TokenForge { TokenForge(keys: keys, now: Self.now) }

    @Test func issuesTokensThatVerifyWithTheirClaims() async throws {
        let tokens = await tokens()
        let subject = AccessTokenSubject(accountID: UUID(), role: "advisor", licenseeID: UUID(), sessionID: UUID(), generation: 3)
        let (token, expiresIn) = try await tokens.issue(for: subject)
        #expect(expiresIn == 900)
        let claims = try await tokens.verify(token)
        #expect(claims.sub.value == subject.accountID.uuidString.lowercased())
        #expect(claims.role == "advisor")
        #expect(claims.licenseeID == subject.licenseeID?.uuidString.lowercased())
        #expect(claims.sessionID == subject.sessionID.uuidString.lowercased())
        #expect(claims.generation == 3)
        #expect(claims.tokenUse == "access")
        #expect(claims.exp.value == Self.now.addingTimeInterval(900))
    }

    @Test func theHandMadeBaselineVerifies() async throws {
        // Every attack below changes one thing of this token.
        _ = try await tokens().verify(forge.token(claims: forge.claims()))
    }

    @Test func refusesAlgNone() async {
        let token = forge.unsignedToken(claims: forge.claims())
        await #expect(throws: AccessTokenError.algorithmNotAllowed) { try await tokens().verify(token) }
    }

    @Test func refusesAnotherAlgorithmSignedWithThePublicKey() async {
        // The classic confusion: HS256 keyed with the (public) verification key.
        let publicKey = keys.signingPublicKey
        let token = forge.hmacToken(header: ["alg": "HS256", "typ": "JWT", "kid": "current"], claims: forge.claims(), secret: publicKey)
        await #expect(throws: AccessTokenError.algorithmNotAllowed) { try await tokens().verify(token) }
    }

    @Test func refusesAnUnknownOrMissingKeyID() async {
        await #expect(throws: AccessTokenError.unknownKey) {
            try await tokens().verify(forge.token(header: ["alg": "EdDSA", "typ": "JWT", "kid": "other"], claims: forge.claims()))
        }
        await #expect(throws: AccessTokenError.unknownKey) {
            try await tokens().verify(forge.token(header: ["alg": "EdDSA", "typ": "JWT"], claims: forge.claims()))
        }
    }

    @Test func refusesAStrippedOrAlteredSignature() async {
        let token = forge.token(claims: forge.claims())
        let parts = token.split(separator: ".").map(String.init)
        let stripped = parts[0] + "." + parts[1] + "."
        var signature = Base64URL.decode(parts[2])!
        signature[0] ^= 0x01
        let flipped = parts[0] + "." + parts[1] + "." + Base64URL.encode(signature)
        let otherClaims = forge.claims(overriding: ["role": "platform_admin"])
        let swappedPayload = parts[0] + "." + TokenForge.segment(otherClaims) + "." + parts[2]
        for attempt in [stripped, flipped, swappedPayload] {
            await #expect(throws: AccessTokenError.badSignature) { try await tokens().verify(attempt) }
        }
    }

    @Test func refusesATokenSignedByAnotherKeyUnderOurKeyID() async {
        let impostor = TokenForge(keys: AccessTokenKeys.generate(keyID: "current"), now: Self.now)
        await #expect(throws: AccessTokenError.badSignature) { try await tokens().verify(impostor.token(claims: forge.claims())) }
    }

    /// One claim of a well-signed token made wrong.
    enum ClaimAttack: CaseIterable, Sendable {
        case expired, missingExpiry, notYetValid, issuedInTheFuture, wrongIssuer, wrongAudience, refreshTokenUse

        var change: (String, Any?) {
            let now = AccessTokensTests.now.timeIntervalSince1970
            return switch self {
            case .expired: ("exp", now - 1)
            case .missingExpiry: ("exp", nil)
            case .notYetValid: ("nbf", now + 60)
            case .issuedInTheFuture: ("iat", now + 60)
            case .wrongIssuer: ("iss", "someone-else")
            case .wrongAudience: ("aud", ["another-api"])
            case .refreshTokenUse: ("token_use", "refresh")
            }
        }

        var expected: AccessTokenError {
            switch self {
            case .expired: .expired
            // A missing claim fails decoding, which the verifier reports like any unverifiable token.
            case .missingExpiry: .badSignature
            case .notYetValid, .issuedInTheFuture: .notYetValid
            case .wrongIssuer: .wrongIssuer
            case .wrongAudience: .wrongAudience
            case .refreshTokenUse: .wrongTokenUse
            }
        }
    }

    @Test(arguments: ClaimAttack.allCases)
    func refusesAWellSignedTokenWithABadClaim(attack: ClaimAttack) async {
        let (claim, value) = attack.change
        let token = forge.token(claims: forge.claims(overriding: [claim: value]))
        await #expect(throws: attack.expected) { try await tokens().verify(token) }
    }

    @Test func refusesALiveKitStyleRoomToken() async {
        // LiveKit room tokens are HS256 with the Licensee's API secret and a video grant: never an access token.
        let claims: [String: Any] = [
            "iss": "APIkey", "sub": "user-1", "exp": Self.now.timeIntervalSince1970 + 600, "nbf": Self.now.timeIntervalSince1970,
            "video": ["roomJoin": true, "room": "call-1"],
        ]
        let token = forge.hmacToken(header: ["alg": "HS256", "typ": "JWT"], claims: claims, secret: Array(repeating: 7, count: 32))
        await #expect(throws: AccessTokenError.algorithmNotAllowed) { try await tokens().verify(token) }
    }

    @Test(arguments: ["", "abc", "a.b", "a.b.c.d", String(repeating: "x", count: 5000) + ".e.f"])
    func refusesMalformedTokens(token: String) async {
        await #expect(throws: AccessTokenError.malformed) { try await tokens().verify(token) }
    }

    @Test func verifiesTokensOfARotatedOutKeyWhileItIsListed() async throws {
        let old = AccessTokenKeys.generate(keyID: "old")
        let (token, _) = try await tokens(keys: old).issue(
            for: AccessTokenSubject(accountID: UUID(), role: "end_user", licenseeID: nil, sessionID: UUID(), generation: 0))
        let rotated = try AccessTokenKeys(
            signingKeyID: "new", signingKeySeed: AccessTokenKeys.generate().signingKeySeed,
            additionalVerificationKeys: ["old": old.signingPublicKey])
        _ = try await tokens(keys: rotated).verify(token)
        #expect(rotated.jwks.keys.map(\.kid) == ["new", "old"])
        let dropped = AccessTokenKeys.generate(keyID: "new")
        await #expect(throws: AccessTokenError.unknownKey) { try await tokens(keys: dropped).verify(token) }
    }

    @Test func publishesOnlyPublicKeysInTheJWKS() throws {
        let jwks = keys.jwks
        #expect(jwks.keys.count == 1)
        let key = try #require(jwks.keys.first)
        #expect(key.kty == "OKP" && key.crv == "Ed25519" && key.alg == "EdDSA" && key.use == "sig" && key.kid == "current")
        #expect(Base64URL.decode(key.x) == keys.signingPublicKey)
        let json = String(decoding: try JSONEncoder().encode(jwks), as: UTF8.self)
        #expect(!json.contains("\"d\""))
    }
}
