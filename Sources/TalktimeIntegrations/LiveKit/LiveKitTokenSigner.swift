import Foundation
import JWTKit
import TalktimeSecurity

/// Signs and verifies LiveKit tokens: HS256 with an API secret, the only algorithm LiveKit uses.
///
/// A key collection is made per use: it holds one secret, which differs between Licensees, and an HMAC key
/// costs nothing to set up next to the signature itself.
enum LiveKitTokenSigner {
    /// Why a token was refused. The webhook route answers 401 whatever the reason; the reason is for logs.
    enum VerificationError: Error, Equatable {
        case malformed
        case algorithmNotAllowed
        case unknownKey
        case badSignature
        case expired
        case notYetValid
    }

    static func sign(_ claims: LiveKitClaims, secret: String) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        return try await keys.sign(claims)
    }

    /// The `iss` (API key) of a token whose signature is not checked yet, to find the secret to check it with.
    static func unverifiedIssuer(of token: String) throws(VerificationError) -> String {
        guard try header(of: token).alg == "HS256" else { throw .algorithmNotAllowed }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard let bytes = Base64URL.decode(String(parts[1])), let claims = try? JSONDecoder().decode(Issuer.self, from: Data(bytes)) else {
            throw .malformed
        }
        return claims.iss
    }

    private struct Issuer: Decodable {
        let iss: String
    }

    /// The claims of `token` once its signature with `secret`, `exp` and `nbf` hold at `now`.
    static func verify(_ token: String, secret: String, now: Date, leeway: Duration = .seconds(10)) async throws(VerificationError)
        -> LiveKitClaims
    {
        guard try header(of: token).alg == "HS256" else { throw .algorithmNotAllowed }
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        let claims: LiveKitClaims
        do {
            claims = try await keys.verify(token, as: LiveKitClaims.self)
        } catch {
            throw .badSignature
        }
        let leeway = Double(leeway.components.seconds)
        guard claims.exp.value.addingTimeInterval(leeway) > now else { throw .expired }
        if let nbf = claims.nbf, nbf.value > now.addingTimeInterval(leeway) { throw .notYetValid }
        return claims
    }

    private struct Header: Decodable {
        let alg: String
    }

    // Read before any key is used, so that no other algorithm (`none`, RS256 with the secret as a "public key")
    // is ever tried.
    private static func header(of token: String) throws(VerificationError) -> Header {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard token.utf8.count <= 8192, parts.count == 3, let bytes = Base64URL.decode(String(parts[0])),
            let header = try? JSONDecoder().decode(Header.self, from: Data(bytes))
        else { throw .malformed }
        return header
    }
}
