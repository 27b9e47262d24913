import Foundation
import TalktimeCore

/// Request and response bodies of the identity routes, in the API's snake_case JSON.
enum IdentityDTO {
    struct Register: Decodable {
        let email: String
        let password: String
        let displayName: String
    }

    struct Login: Decodable {
        let email: String
        let password: String
    }

    struct Refresh: Decodable {
        let refreshToken: String
    }

    struct AcceptInvitation: Decodable {
        let token: String
        let password: String
        let displayName: String
    }

    struct PasswordResetRequest: Decodable {
        let email: String
    }

    struct PasswordResetConfirm: Decodable {
        let token: String
        let password: String
    }

    struct PasswordChange: Decodable {
        let currentPassword: String
        let newPassword: String
    }

    struct UpdateMe: Decodable {
        let displayName: String?
    }

    struct CreateInvitation: Decodable {
        let email: String
        let role: UserRole
        let licenseeId: UUID?
    }

    struct CreateAPIKey: Decodable {
        let name: String
        let scopes: [APIKeyScope]
    }

    struct Tokens: Encodable {
        let accessToken: String
        let tokenType = "Bearer"
        let expiresIn: Int
        let refreshToken: String

        init(_ pair: TokenPair) {
            accessToken = pair.accessToken
            expiresIn = pair.expiresIn
            refreshToken = pair.refreshToken
        }
    }

    struct Me: Encodable {
        let id: UUID
        let role: UserRole
        let licenseeId: UUID?
        let email: String
        let displayName: String

        init(_ profile: AccountService.Profile) {
            id = profile.id
            role = profile.role
            licenseeId = profile.licenseeID
            email = profile.email
            displayName = profile.displayName
        }
    }

    struct Invitation: Encodable {
        let id: UUID
        let licenseeId: UUID
        let email: String
        let role: UserRole
        let expiresAt: Date
        /// Shown once: deliver it to the invitee.
        let token: String
    }

    struct APIKey: Encodable {
        let id: UUID
        let name: String
        let prefix: String
        let scopes: [APIKeyScope]
        let createdAt: Date
        let lastUsedAt: Date?
        let revokedAt: Date?
        /// Present only in the answer to creation: the one time the secret is shown.
        let key: String?

        init(_ summary: APIKeyService.Summary, key: String? = nil) {
            id = summary.id
            name = summary.name
            prefix = summary.displayPrefix
            scopes = summary.scopes
            createdAt = summary.createdAt
            lastUsedAt = summary.lastUsedAt
            revokedAt = summary.revokedAt
            self.key = key
        }
    }

    struct List<Item: Encodable>: Encodable {
        let data: [Item]
    }
}
