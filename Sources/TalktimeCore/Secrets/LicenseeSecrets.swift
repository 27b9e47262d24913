import Foundation
import Logging
import TalktimeSecurity

/// Why a Licensee's own outside-service account (a LiveKit project, push credentials) was not stored. Nothing
/// changed when one of these is thrown.
public enum LicenseeAccountError: Error, Sendable, Equatable {
    /// The service has no secrets key, so it cannot keep a secret: own accounts are switched off.
    case secretsKeyMissing
    /// Another Licensee, or the platform itself, uses this key: it must lead to one account.
    case keyTaken
    /// Something given is malformed; the text says what, never quoting a secret.
    case invalid(String)
    /// The Licensee has no account of its own.
    case notFound
    /// A stored secret cannot be opened with the configured secrets keys (the key was changed without keeping
    /// the old one among the retired keys, or the row was tampered with).
    case unreadable
}

/// Seals and opens one kind of secret that Licensees keep with the service (`purpose`), each bound to its
/// Licensee: a sealed value copied to another Licensee's row, or to another purpose, does not open.
public struct LicenseeSecrets: Sendable {
    /// What a secret is for; part of what it is bound to.
    public enum Purpose: String, Sendable, CaseIterable {
        case liveKitAPISecret = "livekit-api-secret"
        case pushCredentials = "push-credentials"

        /// Where secrets of this purpose are kept: table and column.
        var columns: [(table: String, column: String)] {
            switch self {
            case .liveKitAPISecret: [("licensee_livekit_accounts", "api_secret_sealed")]
            case .pushCredentials:
                [("licensee_push_accounts", "fcm_service_account_sealed"), ("licensee_push_accounts", "apns_private_key_sealed")]
            }
        }
    }

    let box: SecretBox?
    let purpose: Purpose

    public init(box: SecretBox?, purpose: Purpose) {
        self.box = box
        self.purpose = purpose
    }

    /// Seals `secret` of `licenseeID`; without a secrets key, own accounts cannot be stored at all.
    func seal(_ secret: String, for licenseeID: UUID) throws -> String {
        guard let box else { throw LicenseeAccountError.secretsKeyMissing }
        return try box.seal(secret, context: context(licenseeID))
    }

    /// The secret, or nil (logged, without the sealed value) when no configured key opens it for this Licensee.
    func open(_ sealed: String, of licenseeID: UUID, logger: Logger) -> String? {
        guard let box, let secret = try? box.open(sealed, context: context(licenseeID)) else {
            logger.error(
                "a Licensee's secret cannot be opened with the configured secrets keys",
                metadata: ["licensee_id": "\(licenseeID)", "secret_purpose": "\(purpose.rawValue)"])
            return nil
        }
        return secret
    }

    private func context(_ licenseeID: UUID) -> String {
        purpose.rawValue + ":" + licenseeID.uuidString.lowercased()
    }
}
