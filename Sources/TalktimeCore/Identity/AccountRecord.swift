import Foundation
import Logging
import PostgresNIO

/// An account as stored: a tenant user, or a platform admin (no Licensee).
struct AccountRecord: Sendable {
    let id: UUID
    let licenseeID: UUID?
    let role: UserRole
    let email: String
    let displayName: String
    let isBlocked: Bool
    let passwordHash: String
    let tokenGeneration: Int

    var scope: TenantScope { licenseeID.map(TenantScope.licensee) ?? .platform }
}

/// SQL for accounts. Tenant users live in `users`, platform admins in `platform_admins`; callers run these in
/// the matching tenant scope.
enum AccountStore {
    static func find(email: String, licenseeID: UUID?, on connection: PostgresConnection, logger: Logger) async throws -> AccountRecord? {
        let rows: PostgresRowSequence
        if let licenseeID {
            rows = try await connection.query(
                """
                SELECT id, licensee_id, role, email, display_name, status, password_hash, token_generation
                FROM users WHERE licensee_id = \(licenseeID) AND lower(email) = lower(\(email))
                """,
                logger: logger)
        } else {
            rows = try await connection.query(
                """
                SELECT id, NULL::uuid, 'platform_admin', email, display_name, status, password_hash, token_generation
                FROM platform_admins WHERE lower(email) = lower(\(email))
                """,
                logger: logger)
        }
        return try await record(from: rows)
    }

    static func find(id: UUID, licenseeID: UUID?, on connection: PostgresConnection, logger: Logger) async throws -> AccountRecord? {
        let rows: PostgresRowSequence
        if let licenseeID {
            rows = try await connection.query(
                """
                SELECT id, licensee_id, role, email, display_name, status, password_hash, token_generation
                FROM users WHERE licensee_id = \(licenseeID) AND id = \(id)
                """,
                logger: logger)
        } else {
            rows = try await connection.query(
                """
                SELECT id, NULL::uuid, 'platform_admin', email, display_name, status, password_hash, token_generation
                FROM platform_admins WHERE id = \(id)
                """,
                logger: logger)
        }
        return try await record(from: rows)
    }

    private static func record(from rows: PostgresRowSequence) async throws -> AccountRecord? {
        for try await (id, licenseeID, role, email, displayName, status, hash, generation) in rows.decode(
            (UUID, UUID?, String, String, String, String, String, Int).self)
        {
            guard let role = UserRole(rawValue: role) else { return nil }
            return AccountRecord(
                id: id, licenseeID: licenseeID, role: role, email: email, displayName: displayName, isBlocked: status == "blocked",
                passwordHash: hash, tokenGeneration: generation)
        }
        return nil
    }

    static func table(for account: AccountRecord) -> String { account.licenseeID == nil ? "platform_admins" : "users" }

    static func setPasswordHash(_ hash: String, for account: AccountRecord, on connection: PostgresConnection, logger: Logger) async throws {
        if account.licenseeID == nil {
            try await connection.query(
                "UPDATE platform_admins SET password_hash = \(hash), updated_at = now() WHERE id = \(account.id)", logger: logger)
        } else {
            try await connection.query("UPDATE users SET password_hash = \(hash), updated_at = now() WHERE id = \(account.id)", logger: logger)
        }
    }

    /// Makes every access token issued so far fail verification.
    static func bumpTokenGeneration(for account: AccountRecord, on connection: PostgresConnection, logger: Logger) async throws {
        if account.licenseeID == nil {
            try await connection.query("UPDATE platform_admins SET token_generation = token_generation + 1 WHERE id = \(account.id)", logger: logger)
        } else {
            try await connection.query("UPDATE users SET token_generation = token_generation + 1 WHERE id = \(account.id)", logger: logger)
        }
    }
}
