import Foundation
import Logging
import PostgresNIO

/// The signed-in account's own profile, and Licensee admins' control over their users.
public struct AccountService: Sendable {
    /// An account as its holder sees it.
    public struct Profile: Sendable, Equatable {
        public let id: UUID
        public let role: UserRole
        public let licenseeID: UUID?
        public let email: String
        public let displayName: String
    }

    let database: Database
    /// Told of every change to what a user's access tokens stand for (blocking, the name they carry).
    let sessions: SessionValidityCache

    public init(database: Database, sessions: SessionValidityCache) {
        self.database = database
        self.sessions = sessions
    }

    public func profile(of principal: Principal, logger: Logger) async throws -> Profile {
        guard case .accessToken = principal.credential else { throw IdentityError.forbidden }
        if let email = principal.email, let displayName = principal.displayName {
            // Read a moment ago, by the authentication of this very request.
            return Profile(id: principal.id, role: principal.role, licenseeID: principal.licenseeID, email: email, displayName: displayName)
        }
        let account = try await database.withTransaction(principal.scope, logger: logger) { connection in
            try await AccountStore.find(id: principal.id, licenseeID: principal.licenseeID, on: connection, logger: logger)
        }
        guard let account else { throw IdentityError.notFound }
        return Profile(id: account.id, role: account.role, licenseeID: account.licenseeID, email: account.email, displayName: account.displayName)
    }

    public func updateProfile(of principal: Principal, displayName: String?, logger: Logger) async throws -> Profile {
        guard case .accessToken = principal.credential else { throw IdentityError.forbidden }
        if let displayName {
            let name = try RegistrationService.validDisplayName(displayName)
            try await sessions.forgetting(account: principal.id) {
                try await database.withTransaction(principal.scope, logger: logger) { connection in
                    if principal.licenseeID == nil {
                        _ = try await connection.query(
                            "UPDATE platform_admins SET display_name = \(name), updated_at = now() WHERE id = \(principal.id)", logger: logger)
                    } else {
                        _ = try await connection.query(
                            "UPDATE users SET display_name = \(name), updated_at = now() WHERE id = \(principal.id)", logger: logger)
                    }
                }
            }
        }
        let unchanged = Principal(id: principal.id, role: principal.role, licenseeID: principal.licenseeID, credential: principal.credential)
        return try await profile(of: unchanged, logger: logger)
    }

    /// Blocks or unblocks a user of the admin's Licensee. Blocking ends every session and access token at once.
    public func setBlocked(_ blocked: Bool, userID: UUID, by admin: Principal, logger: Logger) async throws {
        guard let licenseeID = admin.adminsOwnLicensee else { throw IdentityError.forbidden }
        guard userID != admin.id else { throw IdentityError.cannotBlockSelf }
        try await sessions.forgetting(account: userID) {
            try await database.withTransaction(admin.scope, logger: logger) { connection in
                guard let account = try await AccountStore.find(id: userID, licenseeID: licenseeID, on: connection, logger: logger) else {
                    throw IdentityError.notFound
                }
                try await connection.query(
                    "UPDATE users SET status = \(blocked ? "blocked" : "active"), updated_at = now() WHERE id = \(userID)", logger: logger)
                if blocked {
                    try await AuthenticationService.revokeEverything(of: account, reason: "blocked", on: connection, logger: logger)
                }
                try await AuditLog.record(
                    blocked ? "user.blocked" : "user.unblocked", by: admin, target: ("user", userID.uuidString), on: connection, logger: logger)
            }
        }
    }
}
