import Foundation
import Logging
import PostgresNIO
import TalktimeSecurity

/// Password changes and resets. Either one ends every session of the account and every access token
/// issued to it.
public struct PasswordService: Sendable {
    static let resetPrefix = "pwr"

    let database: Database
    let hasher: PasswordHasher
    let authentication: AuthenticationService
    let settings: IdentitySettings
    let now: @Sendable () -> Date

    public init(
        database: Database, hasher: PasswordHasher, authentication: AuthenticationService, settings: IdentitySettings,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.database = database
        self.hasher = hasher
        self.authentication = authentication
        self.settings = settings
        self.now = now
    }

    /// Changes the signed-in account's password and returns a fresh session for the client that asked.
    public func change(for principal: Principal, current: String, new: String, logger: Logger) async throws -> TokenPair {
        guard case .accessToken = principal.credential else { throw IdentityError.forbidden }
        let account = try await database.withTransaction(principal.scope, logger: logger) { connection in
            try await AccountStore.find(id: principal.id, licenseeID: principal.licenseeID, on: connection, logger: logger)
        }
        guard let account else { throw IdentityError.invalidToken }
        guard try await hasher.verify(current, against: account.passwordHash) else { throw IdentityError.invalidCredentials }
        try Self.check(new, email: account.email)
        let hash = try await hasher.hash(new)
        let updated = try await replacePassword(of: account, with: hash, reason: "password_changed", logger: logger)
        return try await authentication.startSession(for: updated, logger: logger)
    }

    /// Sends a reset link if the account exists. The caller answers the same either way.
    public func requestReset(licenseeID: UUID?, email: String, logger: Logger) async throws {
        let scope = licenseeID.map(TenantScope.licensee) ?? .platform
        let token = OpaqueToken.generate(prefix: Self.resetPrefix, licenseeID: licenseeID)
        let now = now()
        try await database.withTransaction(scope, logger: logger) { connection in
            guard let account = try await AccountStore.find(email: email, licenseeID: licenseeID, on: connection, logger: logger),
                !account.isBlocked
            else { return }
            try await connection.query(
                """
                INSERT INTO password_reset_tokens (token_hash, licensee_id, user_id, platform_admin_id, created_at, expires_at)
                VALUES (\(token.hash), \(licenseeID), \(licenseeID == nil ? nil : account.id), \(licenseeID == nil ? account.id : nil),
                        \(now), \(now.adding(settings.passwordResetLifetime)))
                """,
                logger: logger)
            let payload = String(decoding: try JSONEncoder().encode(["token": token.value]), as: UTF8.self)
            try await connection.query(
                """
                INSERT INTO email_outbox (licensee_id, recipient, template, payload)
                VALUES (\(licenseeID), \(account.email), 'password_reset', \(payload)::jsonb)
                """,
                logger: logger)
        }
    }

    /// Sets a new password with a reset token (single use, before expiry).
    public func confirmReset(token presented: String, new: String, logger: Logger) async throws {
        guard let token = OpaqueToken(parsing: presented, prefix: Self.resetPrefix) else { throw IdentityError.invalidToken }
        let scope = token.licenseeID.map(TenantScope.licensee) ?? .platform
        let now = now()
        let account = try await database.withTransaction(scope, logger: logger) { connection -> AccountRecord? in
            let rows = try await connection.query(
                """
                SELECT coalesce(user_id, platform_admin_id) FROM password_reset_tokens
                WHERE token_hash = \(token.hash) AND used_at IS NULL AND expires_at > \(now)
                """,
                logger: logger
            ).collect()
            guard let id = try rows.first?.decode(UUID.self) else { return nil }
            return try await AccountStore.find(id: id, licenseeID: token.licenseeID, on: connection, logger: logger)
        }
        guard let account, !account.isBlocked else { throw IdentityError.invalidToken }
        try Self.check(new, email: account.email)
        let hash = try await hasher.hash(new)
        try await authentication.sessions.forgetting(account: account.id) {
            try await database.withTransaction(scope, logger: logger) { connection in
                // Claimed under a row lock: a token used concurrently twice sets the password once.
                let claimed = try await connection.query(
                    """
                    UPDATE password_reset_tokens SET used_at = \(now)
                    WHERE token_hash = \(token.hash) AND used_at IS NULL AND expires_at > \(now)
                    RETURNING 1
                    """,
                    logger: logger
                ).collect()
                guard !claimed.isEmpty else { throw IdentityError.invalidToken }
                try await AccountStore.setPasswordHash(hash, for: account, on: connection, logger: logger)
                try await AuthenticationService.revokeEverything(of: account, reason: "password_changed", on: connection, logger: logger)
            }
        }
    }

    private func replacePassword(of account: AccountRecord, with hash: String, reason: String, logger: Logger) async throws -> AccountRecord {
        try await authentication.sessions.forgetting(account: account.id) {
            try await database.withTransaction(account.scope, logger: logger) { connection in
                try await AccountStore.setPasswordHash(hash, for: account, on: connection, logger: logger)
                try await AuthenticationService.revokeEverything(of: account, reason: reason, on: connection, logger: logger)
                guard let updated = try await AccountStore.find(id: account.id, licenseeID: account.licenseeID, on: connection, logger: logger) else {
                    throw IdentityError.invalidToken
                }
                return updated
            }
        }
    }

    static func check(_ password: String, email: String) throws(IdentityError) {
        do {
            try PasswordPolicy.check(password, email: email)
        } catch {
            throw .passwordRejected(error)
        }
    }
}
