import Foundation
import JWTKit
import Logging

/// APNs' token-based authentication: an ES256 JWT with the key's id in its header and the team and issue time
/// in its claims, signed with the .p8 key.
struct APNsProviderToken: Sendable {
    /// Apple refuses tokens older than an hour and renewals more often than every 20 minutes; renewing at 50
    /// minutes stays clear of both.
    static let reuseFor: TimeInterval = 50 * 60

    let configuration: APNsConfiguration
    let now: @Sendable () -> Date

    /// Apple reads `iat` as whole seconds.
    struct Claims: JWTPayload {
        let iss: String
        let iat: Int

        func verify(using algorithm: some JWTAlgorithm) throws {}
    }

    /// A token signed now, to be renewed after `reuseFor`.
    func issue(logger: Logger) async throws(PushCredentialError) -> PushCredentialCache.Issued {
        let issuedAt = now()
        let keys = JWTKeyCollection()
        let kid = JWKIdentifier(string: configuration.keyID)
        await keys.add(ecdsa: configuration.privateKey, kid: kid)
        do {
            let token = try await keys.sign(Claims(iss: configuration.teamID, iat: Int(issuedAt.timeIntervalSince1970)), kid: kid)
            logger.debug("apns provider token issued")
            return .init(value: token, renewAt: issuedAt.addingTimeInterval(Self.reuseFor))
        } catch {
            throw PushCredentialError(reason: "could not sign the APNs provider token", retryable: false)
        }
    }
}
