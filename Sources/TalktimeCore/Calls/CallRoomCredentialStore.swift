import Foundation
import Logging

/// Finds the media-service account of a Licensee, and the secret behind an API key that signed a room event.
public protocol CallRoomCredentialStore: Sendable {
    /// The Licensee's account, or nil when calls are not configured for it.
    func credentials(forLicensee licenseeID: UUID, logger: Logger) async throws -> CallRoomCredentials?
    /// The secret of `apiKey`, or nil when no Licensee uses that key.
    func secret(forAPIKey apiKey: String, logger: Logger) async throws -> String?
}

/// One media-service account for every Licensee: the platform's own LiveKit deployment, from configuration.
public struct SharedCallRoomCredentials: CallRoomCredentialStore {
    let credentials: CallRoomCredentials?

    public init(_ credentials: CallRoomCredentials?) {
        self.credentials = credentials
    }

    public func credentials(forLicensee licenseeID: UUID, logger: Logger) async throws -> CallRoomCredentials? { credentials }

    public func secret(forAPIKey apiKey: String, logger: Logger) async throws -> String? {
        guard let credentials, credentials.apiKey == apiKey else { return nil }
        return credentials.apiSecret
    }
}
