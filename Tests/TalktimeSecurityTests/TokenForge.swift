import Crypto
import Foundation

@testable import TalktimeSecurity

/// Builds JWTs by hand, well-formed or not, to attack the verifier with.
struct TokenForge {
    let keys: AccessTokenKeys
    let now: Date

    func claims(overriding changes: [String: Any?] = [:]) -> [String: Any] {
        var claims: [String: Any] = [
            "iss": "talktime-test", "aud": ["talktime-api"], "sub": UUID().uuidString.lowercased(),
            "exp": now.timeIntervalSince1970 + 600, "nbf": now.timeIntervalSince1970, "iat": now.timeIntervalSince1970,
            "token_use": "access", "lic": UUID().uuidString.lowercased(), "role": "end_user",
            "sid": UUID().uuidString.lowercased(), "gen": 0,
        ]
        for (key, value) in changes {
            claims[key] = value
        }
        return claims
    }

    static func segment(_ object: [String: Any]) -> String {
        Base64URL.encode(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    /// Signed with our real key (EdDSA) unless told otherwise.
    func token(header: [String: Any]? = nil, claims: [String: Any]) -> String {
        let header = header ?? ["alg": "EdDSA", "typ": "JWT", "kid": keys.signingKeyID]
        let signingInput = Self.segment(header) + "." + Self.segment(claims)
        let signature = try! keys.signingKey.signature(for: Data(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature)
    }

    /// HS256 with the given secret: how an algorithm-confusion attacker signs.
    func hmacToken(header: [String: Any], claims: [String: Any], secret: [UInt8]) -> String {
        let signingInput = Self.segment(header) + "." + Self.segment(claims)
        let mac = HMAC<SHA256>.authenticationCode(for: Data(signingInput.utf8), using: SymmetricKey(data: secret))
        return signingInput + "." + Base64URL.encode(mac)
    }
}
