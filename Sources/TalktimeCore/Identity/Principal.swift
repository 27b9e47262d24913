import Foundation

/// Who is calling, once authenticated: an account holding an access token, or a Licensee's API key.
public struct Principal: Sendable, Equatable {
    public enum Credential: Sendable, Equatable {
        /// An access token, issued to the login session `sessionID`.
        case accessToken(sessionID: UUID)
        /// An API key with its scopes.
        case apiKey(scopes: Set<APIKeyScope>)
    }

    /// The account id, or the API key's id.
    public let id: UUID
    /// The account's role; API keys act for their Licensee's admins within their scopes.
    public let role: UserRole
    /// nil for platform admins only.
    public let licenseeID: UUID?
    public let credential: Credential
    /// The account's email and name as read while authenticating (nil for API keys), so that the request that
    /// asks who it is needs no second read.
    public let email: String?
    public let displayName: String?

    public init(id: UUID, role: UserRole, licenseeID: UUID?, credential: Credential, email: String? = nil, displayName: String? = nil) {
        self.id = id
        self.role = role
        self.licenseeID = licenseeID
        self.credential = credential
        self.email = email
        self.displayName = displayName
    }

    /// The row level security scope the principal's work runs in.
    public var scope: TenantScope { licenseeID.map(TenantScope.licensee) ?? .platform }

    public var isAPIKey: Bool {
        if case .apiKey = credential { return true }
        return false
    }

    /// The Licensee of a Licensee admin signed in as a person; nil for anyone else, API keys included (they act for
    /// admins only within their scopes, never on keys, users or Advisors).
    public var adminsOwnLicensee: UUID? {
        role == .licenseeAdmin && !isAPIKey ? licenseeID : nil
    }
}

/// What an API key may do. Keys carry the narrowest set their holder needs.
public enum APIKeyScope: String, Sendable, CaseIterable, Codable {
    case usersRead = "users:read"
    case callsRead = "calls:read"
    case walletsWrite = "wallets:write"
}
