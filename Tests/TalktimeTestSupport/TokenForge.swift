import Crypto
import Foundation
import TalktimeSecurity

/// Builds JWTs by hand, well-formed or not, to attack verifiers with.
public struct TokenForge: Sendable {
    public let keys: AccessTokenKeys
    public let now: Date
    public var issuer = "talktime-test"
    public var audience = "talktime-api"

    public init(keys: AccessTokenKeys, now: Date) {
        self.keys = keys
        self.now = now
    }

    /// Valid access token claims, with `changes` applied (a nil value removes the claim).
    public func claims(overriding changes: [String: Any?] = [:]) -> [String: Any] {
        var claims: [String: Any] = [
            "iss": issuer, "aud": [audience], "sub": UUID().uuidString.lowercased(),
            "exp": now.timeIntervalSince1970 + 600, "nbf": now.timeIntervalSince1970, "iat": now.timeIntervalSince1970,
            "token_use": "access", "lic": UUID().uuidString.lowercased(), "role": "end_user",
            "sid": UUID().uuidString.lowercased(), "gen": 0,
        ]
        for (key, value) in changes {
            claims[key] = value
        }
        return claims
    }

    public static func segment(_ object: [String: Any]) -> String {
        Base64URL.encode(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    /// Signed with the real key (EdDSA) unless the header says otherwise.
    public func token(header: [String: Any]? = nil, claims: [String: Any]) -> String {
        let header = header ?? ["alg": "EdDSA", "typ": "JWT", "kid": keys.signingKeyID]
        let signingInput = Self.segment(header) + "." + Self.segment(claims)
        return signingInput + "." + Base64URL.encode(try! keys.signature(for: Data(signingInput.utf8)))
    }

    /// HS256 with the given secret: how an algorithm-confusion attacker signs, and how LiveKit room tokens look.
    public func hmacToken(header: [String: Any], claims: [String: Any], secret: [UInt8]) -> String {
        let signingInput = Self.segment(header) + "." + Self.segment(claims)
        let mac = HMAC<SHA256>.authenticationCode(for: Data(signingInput.utf8), using: SymmetricKey(data: secret))
        return signingInput + "." + Base64URL.encode(mac)
    }

    /// `alg: none`, unsigned.
    public func unsignedToken(claims: [String: Any]) -> String {
        Self.segment(["alg": "none", "typ": "JWT", "kid": keys.signingKeyID]) + "." + Self.segment(claims) + "."
    }
}
