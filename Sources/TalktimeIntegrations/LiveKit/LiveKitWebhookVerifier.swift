import Crypto
import Foundation
import Logging
import TalktimeCore

/// Checks a LiveKit webhook before anything in it is believed, and decodes it.
///
/// LiveKit sends the bare JWT in `Authorization`, signed HS256 with the API secret of the key in `iss`, with a
/// `sha256` claim: the standard base64 SHA-256 of the raw body. The token's signature, `exp` and `nbf` are
/// checked with the secret of that key, then the hash over the exact bytes received, then the body is parsed.
public struct LiveKitWebhookVerifier: Sendable {
    /// Why a delivery was refused; every case is a 401 to the sender.
    public enum Failure: Error, Equatable {
        case missingAuthorization
        case token(String)
        case unknownKey
        case missingBodyHash
        case bodyMismatch
        case unreadableEvent
    }

    /// The secret of an API key, or nil when nobody uses that key.
    public typealias SecretLookup = @Sendable (_ apiKey: String, _ logger: Logger) async throws -> String?

    let secret: SecretLookup
    let now: @Sendable () -> Date

    public init(secret: @escaping SecretLookup, now: @escaping @Sendable () -> Date = Date.init) {
        self.secret = secret
        self.now = now
    }

    /// The API key that signed the delivery and its event; throws `Failure` for anything not genuine.
    public func verify(body: [UInt8], authorization: String?, logger: Logger) async throws -> (apiKey: String, event: CallRoomEvent) {
        guard var token = authorization?.trimmingCharacters(in: .whitespaces), !token.isEmpty else {
            throw Failure.missingAuthorization
        }
        // LiveKit sends the token bare; a `Bearer ` prefix, as some proxies and SDKs add, is accepted too.
        if token.lowercased().hasPrefix("bearer ") { token = String(token.dropFirst("bearer ".count)) }
        let apiKey: String
        do {
            apiKey = try LiveKitTokenSigner.unverifiedIssuer(of: token)
        } catch {
            throw Failure.token("\(error)")
        }
        guard let secret = try await secret(apiKey, logger) else { throw Failure.unknownKey }
        let claims: LiveKitClaims
        do {
            claims = try await LiveKitTokenSigner.verify(token, secret: secret, now: now())
        } catch {
            throw Failure.token("\(error)")
        }
        guard let claimed = claims.sha256, let claimedHash = Data(base64Encoded: claimed) else { throw Failure.missingBodyHash }
        let actualHash = Data(SHA256.hash(data: body))
        // Both are hashes of public data; still, compared in constant time like any authenticator.
        guard claimedHash.count == actualHash.count, zip(claimedHash, actualHash).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0 else {
            throw Failure.bodyMismatch
        }
        guard let event = LiveKitWebhookEvent.decode(body, receivedAt: now()) else { throw Failure.unreadableEvent }
        return (apiKey, event)
    }
}
