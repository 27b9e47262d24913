import Foundation
import Logging
import PostgresNIO
import TalktimeSecurity

/// Login sessions: each is a family of refresh tokens, used once each and replaced at every use.
///
/// Runs inside the caller's transaction, in the account's tenant scope.
enum SessionStore {
    static let tokenPrefix = "rt"

    /// What presenting a refresh token led to.
    enum Rotation {
        case rotated(account: AccountRecord, sessionID: UUID, refreshToken: OpaqueToken)
        /// An already used token came back: the family was revoked, since someone else holds a copy.
        case reuseDetected(sessionID: UUID)
        case invalid
    }

    static func start(for account: AccountRecord, now: Date, settings: IdentitySettings, on connection: PostgresConnection, logger: Logger)
        async throws -> (sessionID: UUID, refreshToken: OpaqueToken)
    {
        let sessionID = try await connection.query(
            """
            INSERT INTO refresh_token_families (licensee_id, user_id, platform_admin_id, created_at, last_used_at, absolute_expires_at)
            VALUES (\(account.licenseeID), \(account.licenseeID == nil ? nil : account.id), \(account.licenseeID == nil ? account.id : nil),
                    \(now), \(now), \(now.adding(settings.refreshAbsoluteLifetime)))
            RETURNING id
            """,
            logger: logger
        ).collect().first!.decode(UUID.self)
        let token = try await issueToken(
            family: sessionID, licenseeID: account.licenseeID, now: now, settings: settings, on: connection, logger: logger)
        return (sessionID, token)
    }

    static func rotate(_ presented: OpaqueToken, now: Date, settings: IdentitySettings, on connection: PostgresConnection, logger: Logger)
        async throws -> Rotation
    {
        // Both rows locked: two concurrent refreshes with one token serialize here, and the second sees it used.
        let rows = try await connection.query(
            """
            SELECT t.family_id, t.used_at, t.idle_expires_at, f.revoked_at, f.absolute_expires_at, coalesce(f.user_id, f.platform_admin_id)
            FROM refresh_tokens t JOIN refresh_token_families f ON f.id = t.family_id
            WHERE t.token_hash = \(presented.hash)
            FOR UPDATE OF t, f
            """,
            logger: logger
        ).collect()
        guard
            let (familyID, usedAt, idleExpiresAt, revokedAt, absoluteExpiresAt, accountID) = try rows.first?.decode(
                (UUID, Date?, Date, Date?, Date, UUID).self)
        else { return .invalid }
        guard revokedAt == nil else { return .invalid }
        if usedAt != nil {
            try await revoke(sessionID: familyID, reason: "reuse_detected", on: connection, logger: logger)
            return .reuseDetected(sessionID: familyID)
        }
        guard idleExpiresAt > now, absoluteExpiresAt > now,
            let account = try await AccountStore.find(id: accountID, licenseeID: presented.licenseeID, on: connection, logger: logger),
            !account.isBlocked
        else { return .invalid }
        try await connection.query("UPDATE refresh_tokens SET used_at = \(now) WHERE token_hash = \(presented.hash)", logger: logger)
        try await connection.query("UPDATE refresh_token_families SET last_used_at = \(now) WHERE id = \(familyID)", logger: logger)
        let token = try await issueToken(
            family: familyID, licenseeID: account.licenseeID, now: now, settings: settings, on: connection, logger: logger)
        return .rotated(account: account, sessionID: familyID, refreshToken: token)
    }

    static func revoke(sessionID: UUID, reason: String, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            "UPDATE refresh_token_families SET revoked_at = now(), revoked_reason = \(reason) WHERE id = \(sessionID) AND revoked_at IS NULL",
            logger: logger)
    }

    static func revokeAll(of account: AccountRecord, reason: String, on connection: PostgresConnection, logger: Logger) async throws {
        let column = account.licenseeID == nil ? "platform_admin_id" : "user_id"
        try await connection.query(
            PostgresQuery(
                unsafeSQL: "UPDATE refresh_token_families SET revoked_at = now(), revoked_reason = $1 WHERE \(column) = $2 AND revoked_at IS NULL",
                binds: try bindings(reason, account.id)),
            logger: logger)
    }

    /// The account behind an access token, if the token still stands: the account active, in the role and token
    /// generation the token names, its session neither revoked nor past its absolute expiry, and when that
    /// session ends. Every authenticated request the `SessionValidityCache` cannot answer asks, so it is one
    /// round trip: `talktime_access_token_account` scopes its own single-statement transaction the way
    /// `Database.withTransaction` does (see migrations 0002 and 0011). Hence a bare connection.
    static func accountBehindToken(_ key: SessionValidityCache.Key, now: Date, database: Database, logger: Logger) async throws
        -> (account: SessionValidityCache.Account, sessionExpiresAt: Date)?
    {
        try await database.withConnection(logger: logger) { connection in
            try await connection.query(
                """
                SELECT email, display_name, session_expires_at FROM talktime_access_token_account(
                    \(key.licenseeID)::uuid, \(key.accountID), \(key.role.rawValue), \(key.sessionID), \(key.generation)::integer, \(now))
                """,
                logger: logger
            ).collect().first.map { row in
                let (email, displayName, expiresAt) = try row.decode((String, String, Date).self)
                return (SessionValidityCache.Account(email: email, displayName: displayName), expiresAt)
            }
        }
    }

    private static func issueToken(
        family: UUID, licenseeID: UUID?, now: Date, settings: IdentitySettings, on connection: PostgresConnection, logger: Logger
    )
        async throws -> OpaqueToken
    {
        let token = OpaqueToken.generate(prefix: tokenPrefix, licenseeID: licenseeID)
        try await connection.query(
            """
            INSERT INTO refresh_tokens (token_hash, family_id, licensee_id, created_at, idle_expires_at)
            VALUES (\(token.hash), \(family), \(licenseeID), \(now), \(now.adding(settings.refreshIdleLifetime)))
            """,
            logger: logger)
        return token
    }

    private static func bindings(_ reason: String, _ id: UUID) throws -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(reason)
        binds.append(id)
        return binds
    }
}
