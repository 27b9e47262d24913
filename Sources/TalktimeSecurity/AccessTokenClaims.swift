import Foundation
import JWTKit

/// The claims of a Talktime access token.
///
/// `token_use` tells an access token from any other JWT signed with the same key, and `sid` and `gen` let the
/// verifier reject tokens of a session that was logged out, or of an account whose tokens were all revoked.
public struct AccessTokenClaims: JWTPayload, Equatable {
    public var iss: IssuerClaim
    public var aud: AudienceClaim
    public var sub: SubjectClaim
    public var exp: ExpirationClaim
    public var nbf: NotBeforeClaim
    public var iat: IssuedAtClaim
    public var tokenUse: String
    /// The Licensee, absent for platform admins.
    public var licenseeID: String?
    public var role: String
    /// The session (refresh token family) the token was issued to.
    public var sessionID: String
    /// The account's token generation when the token was issued.
    public var generation: Int

    enum CodingKeys: String, CodingKey {
        case iss, aud, sub, exp, nbf, iat
        case tokenUse = "token_use"
        case licenseeID = "lic"
        case role
        case sessionID = "sid"
        case generation = "gen"
    }

    public static let accessTokenUse = "access"

    /// Claims are checked by `AccessTokens.verify`, against its own clock; JWTKit checks only the signature.
    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}
