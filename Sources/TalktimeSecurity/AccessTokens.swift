import Foundation
import JWTKit

/// Who an access token is issued to.
public struct AccessTokenSubject: Sendable, Equatable {
    public let accountID: UUID
    public let role: String
    public let licenseeID: UUID?
    public let sessionID: UUID
    public let generation: Int

    public init(accountID: UUID, role: String, licenseeID: UUID?, sessionID: UUID, generation: Int) {
        self.accountID = accountID
        self.role = role
        self.licenseeID = licenseeID
        self.sessionID = sessionID
        self.generation = generation
    }
}

/// Why a token was refused. Clients only ever learn "401"; the reason is for tests and logs.
public enum AccessTokenError: Error, Equatable {
    case malformed
    case algorithmNotAllowed
    case unknownKey
    case badSignature
    case expired
    case notYetValid
    case wrongIssuer
    case wrongAudience
    case wrongTokenUse
}

/// Issues and verifies access tokens: EdDSA-signed JWTs with a key id, issuer, audience and a short life.
///
/// Verification allows one algorithm (EdDSA) and the configured keys only, checks the signature, then every
/// time and identity claim itself (JWTKit checks none of them).
public struct AccessTokens: Sendable {
    public struct Settings: Sendable {
        public var issuer: String
        public var audience: String
        public var lifetime: Duration
        /// Tolerated clock difference between servers for `nbf` and `iat`.
        public var leeway: Duration = .seconds(5)

        public init(issuer: String, audience: String, lifetime: Duration) {
            self.issuer = issuer
            self.audience = audience
            self.lifetime = lifetime
        }
    }

    let collection: JWTKeyCollection
    let keys: AccessTokenKeys
    public let settings: Settings
    let now: @Sendable () -> Date

    public init(keys: AccessTokenKeys, settings: Settings, now: @escaping @Sendable () -> Date = Date.init) async {
        let collection = JWTKeyCollection()
        for (id, publicKey) in keys.verificationKeys where id != keys.signingKeyID {
            await collection.add(eddsa: EdDSA.PublicKey(backing: publicKey), kid: JWKIdentifier(string: id))
        }
        await collection.add(eddsa: EdDSA.PrivateKey(backing: keys.signingKey), kid: JWKIdentifier(string: keys.signingKeyID))
        self.collection = collection
        self.keys = keys
        self.settings = settings
        self.now = now
    }

    public var jwks: JSONWebKeySet { keys.jwks }

    /// A signed token for `subject` and how many seconds it lives.
    public func issue(for subject: AccessTokenSubject) async throws -> (token: String, expiresIn: Int) {
        let issuedAt = now()
        let lifetime = Double(settings.lifetime.components.seconds)
        let claims = AccessTokenClaims(
            iss: IssuerClaim(value: settings.issuer),
            aud: AudienceClaim(value: [settings.audience]),
            sub: SubjectClaim(value: subject.accountID.uuidString.lowercased()),
            exp: ExpirationClaim(value: issuedAt.addingTimeInterval(lifetime)),
            nbf: NotBeforeClaim(value: issuedAt),
            iat: IssuedAtClaim(value: issuedAt),
            tokenUse: AccessTokenClaims.accessTokenUse,
            licenseeID: subject.licenseeID?.uuidString.lowercased(),
            role: subject.role,
            sessionID: subject.sessionID.uuidString.lowercased(),
            generation: subject.generation
        )
        let token = try await collection.sign(claims, kid: JWKIdentifier(string: keys.signingKeyID))
        return (token, Int(lifetime))
    }

    public func verify(_ token: String) async throws(AccessTokenError) -> AccessTokenClaims {
        let header = try Self.header(of: token)
        guard header.alg == "EdDSA" else { throw .algorithmNotAllowed }
        guard let kid = header.kid, keys.verificationKeys[kid] != nil else { throw .unknownKey }
        let claims: AccessTokenClaims
        do {
            claims = try await collection.verify(token, as: AccessTokenClaims.self)
        } catch {
            throw .badSignature
        }
        let now = now()
        let leeway = Double(settings.leeway.components.seconds)
        guard claims.exp.value > now else { throw .expired }
        guard claims.nbf.value <= now.addingTimeInterval(leeway), claims.iat.value <= now.addingTimeInterval(leeway) else {
            throw .notYetValid
        }
        guard claims.iss.value == settings.issuer else { throw .wrongIssuer }
        guard claims.aud.value.contains(settings.audience) else { throw .wrongAudience }
        guard claims.tokenUse == AccessTokenClaims.accessTokenUse else { throw .wrongTokenUse }
        return claims
    }

    struct Header: Decodable {
        let alg: String
        let kid: String?
    }

    /// The JOSE header, read before any key is chosen so that only our algorithm and keys are ever tried.
    static func header(of token: String) throws(AccessTokenError) -> Header {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard token.utf8.count <= 4096, parts.count == 3, let bytes = Base64URL.decode(String(parts[0])),
            let header = try? JSONDecoder().decode(Header.self, from: Data(bytes))
        else { throw .malformed }
        return header
    }
}
