import Foundation
import Logging
import PostgresNIO
import TalktimeSecurity

/// API keys for a Licensee's own servers: shown once, stored as a hash, scoped, revocable, with last-used time.
public struct APIKeyService: Sendable {
    static let tokenPrefix = "ttk"

    /// An API key as its admins see it: never the secret.
    public struct Summary: Sendable, Equatable {
        public let id: UUID
        public let name: String
        public let displayPrefix: String
        public let scopes: [APIKeyScope]
        public let createdAt: Date
        public let lastUsedAt: Date?
        public let revokedAt: Date?
    }

    let database: Database
    let now: @Sendable () -> Date

    public init(database: Database, now: @escaping @Sendable () -> Date = Date.init) {
        self.database = database
        self.now = now
    }

    /// A new key for the admin's Licensee; the secret in the result is the only copy there will ever be.
    public func create(by admin: Principal, name: String, scopes: Set<APIKeyScope>, logger: Logger) async throws -> (Summary, secret: String) {
        guard let licenseeID = admin.adminsOwnLicensee else { throw IdentityError.forbidden }
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...100).contains(name.unicodeScalars.count) else { throw IdentityError.invalidInput("'name' must have 1 to 100 characters.") }
        guard !scopes.isEmpty else { throw IdentityError.invalidInput("'scopes' must name at least one scope.") }
        let token = OpaqueToken.generate(prefix: Self.tokenPrefix, licenseeID: licenseeID)
        let displayPrefix = String(token.value.prefix(12))
        let scopeNames = scopes.map(\.rawValue).sorted()
        let now = now()
        let summary = try await database.withTransaction(admin.scope, logger: logger) { connection in
            let id = try await connection.query(
                """
                INSERT INTO api_keys (licensee_id, name, display_prefix, key_hash, scopes, created_by_user_id, created_at)
                VALUES (\(licenseeID), \(name), \(displayPrefix), \(token.hash), \(scopeNames), \(admin.id), \(now))
                RETURNING id
                """,
                logger: logger
            ).collect().first!.decode(UUID.self)
            try await AuditLog.record("api_key.created", by: admin, target: ("api_key", id.uuidString), on: connection, logger: logger)
            return Summary(
                id: id, name: name, displayPrefix: displayPrefix, scopes: scopeNames.compactMap(APIKeyScope.init), createdAt: now,
                lastUsedAt: nil, revokedAt: nil)
        }
        return (summary, token.value)
    }

    public func list(by admin: Principal, logger: Logger) async throws -> [Summary] {
        guard admin.adminsOwnLicensee != nil else { throw IdentityError.forbidden }
        return try await database.withTransaction(admin.scope, logger: logger) { connection in
            let rows = try await connection.query(
                """
                SELECT id, name, display_prefix, scopes, created_at, last_used_at, revoked_at
                FROM api_keys ORDER BY created_at DESC, id
                """,
                logger: logger)
            var keys: [Summary] = []
            for try await (id, name, prefix, scopes, createdAt, lastUsedAt, revokedAt) in rows.decode(
                (UUID, String, String, [String], Date, Date?, Date?).self)
            {
                keys.append(
                    Summary(
                        id: id, name: name, displayPrefix: prefix, scopes: scopes.compactMap(APIKeyScope.init), createdAt: createdAt,
                        lastUsedAt: lastUsedAt, revokedAt: revokedAt))
            }
            return keys
        }
    }

    /// Revokes a key of the admin's Licensee. Another Licensee's key is not found, whatever its id.
    public func revoke(id: UUID, by admin: Principal, logger: Logger) async throws {
        guard admin.adminsOwnLicensee != nil else { throw IdentityError.forbidden }
        try await database.withTransaction(admin.scope, logger: logger) { connection in
            let rows = try await connection.query(
                "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = \(id) RETURNING id", logger: logger
            ).collect()
            guard !rows.isEmpty else { throw IdentityError.notFound }
            try await AuditLog.record("api_key.revoked", by: admin, target: ("api_key", id.uuidString), on: connection, logger: logger)
        }
    }

    func authenticate(_ credential: String, logger: Logger) async throws -> Principal {
        guard let token = OpaqueToken(parsing: credential, prefix: Self.tokenPrefix), let licenseeID = token.licenseeID else {
            throw IdentityError.invalidToken
        }
        let now = now()
        return try await database.withTransaction(.licensee(licenseeID), logger: logger) { connection in
            let rows = try await connection.query(
                "SELECT id, scopes FROM api_keys WHERE key_hash = \(token.hash) AND revoked_at IS NULL", logger: logger
            ).collect()
            guard let (id, scopes) = try rows.first?.decode((UUID, [String]).self) else { throw IdentityError.invalidToken }
            // At most one write a minute per key, so a busy integration does not turn every read into a write.
            try await connection.query(
                """
                UPDATE api_keys SET last_used_at = \(now)
                WHERE id = \(id) AND (last_used_at IS NULL OR last_used_at < \(now.addingTimeInterval(-60)))
                """,
                logger: logger)
            return Principal(
                id: id, role: .licenseeAdmin, licenseeID: licenseeID, credential: .apiKey(scopes: Set(scopes.compactMap(APIKeyScope.init))))
        }
    }
}
