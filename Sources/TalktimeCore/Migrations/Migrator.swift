import Foundation
import Logging
import PostgresNIO

/// Applies and inspects migrations.
///
/// Each migration runs in its own transaction together with its bookkeeping row, under a transaction-level
/// advisory lock, so that any number of instances migrating at once apply each migration exactly once.
public struct Migrator: Sendable {
    /// Bookkeeping table; also readable by the service role, which checks it at start-up and in `/readyz`.
    static let table = "talktime_schema_migrations"
    /// Arbitrary, fixed: every Talktime migrator contends for the same advisory lock.
    static let advisoryLockKey: Int64 = 0x7461_6c6b_7469_6d65

    let client: PostgresClient
    let migrations: [Migration]
    let logger: Logger

    public init(client: PostgresClient, migrations: [Migration], logger: Logger) {
        self.client = client
        self.migrations = migrations
        self.logger = logger
    }

    public func status() async throws -> MigrationStatus {
        let recorded = try await client.withConnection { connection in
            try await recordedMigrations(on: connection)
        }
        return MigrationStatus(files: migrations, recorded: recorded)
    }

    /// Throws `SchemaNotCurrentError` unless the database holds exactly this build's migrations.
    public func requireCurrent() async throws {
        let status = try await status()
        guard status.isCurrent else { throw SchemaNotCurrentError(status: status) }
    }

    /// Applies every pending migration and returns those it applied (not those another instance applied
    /// meanwhile). Refuses to touch a database with altered or unknown migrations.
    @discardableResult
    public func apply() async throws -> [Migration] {
        var applied: [Migration] = []
        while let migration = try await applyNext() {
            applied.append(migration)
        }
        return applied
    }

    /// Runs every pending migration inside one transaction and rolls it back: proves they apply, changes nothing.
    public func dryRun() async throws -> [Migration] {
        struct RollBack: Error {}
        let pending = try await status().pending
        do {
            try await client.withTransaction(logger: logger) { connection in
                try await lockAndCheck(on: connection)
                for migration in pending { try await execute(migration, on: connection) }
                throw RollBack()
            }
        } catch let error as PostgresTransactionError {
            if let closureError = error.closureError, !(closureError is RollBack) { throw closureError }
            if error.closureError == nil { throw error }
        }
        return pending
    }

    private func applyNext() async throws -> Migration? {
        do {
            return try await client.withTransaction(logger: logger) { connection -> Migration? in
                let status = try await lockAndCheck(on: connection)
                guard let next = status.pending.first else { return nil }
                logger.info("applying migration", metadata: ["migration": "\(next.fileName)"])
                try await execute(next, on: connection)
                try await connection.query(
                    "INSERT INTO talktime_schema_migrations (version, name, checksum) VALUES (\(next.version), \(next.name), \(next.checksum))",
                    logger: logger
                )
                return next
            }
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error
        }
    }

    /// Takes the migration lock for the rest of the transaction, makes sure the bookkeeping table exists and
    /// refuses to go on over a history this build does not know.
    @discardableResult
    private func lockAndCheck(on connection: PostgresConnection) async throws -> MigrationStatus {
        try await connection.query("SELECT pg_advisory_xact_lock(\(Self.advisoryLockKey))", logger: logger)
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS talktime_schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            logger: logger
        )
        let status = MigrationStatus(files: migrations, recorded: try await recordedMigrations(on: connection))
        guard status.altered.isEmpty, status.unknown.isEmpty else { throw SchemaNotCurrentError(status: status) }
        return status
    }

    private func execute(_ migration: Migration, on connection: PostgresConnection) async throws {
        for statement in SQLStatementSplitter.split(migration.sql) {
            do {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            } catch let error as PSQLError {
                throw MigrationFailedError(migration: migration, serverMessage: error.serverInfo?[.message] ?? "\(error.code)")
            }
        }
    }

    private func recordedMigrations(on connection: PostgresConnection) async throws -> [AppliedMigration] {
        let exists =
            try await connection.query("SELECT to_regclass('talktime_schema_migrations') IS NOT NULL", logger: logger)
            .collect().first?.decode(Bool.self) ?? false
        guard exists else { return [] }
        var recorded: [AppliedMigration] = []
        let rows = try await connection.query("SELECT version, name, checksum FROM talktime_schema_migrations ORDER BY version", logger: logger)
        for try await (version, name, checksum) in rows.decode((Int, String, String).self) {
            recorded.append(AppliedMigration(version: version, name: name, checksum: checksum))
        }
        return recorded
    }
}

/// A migration's SQL failed; its transaction was rolled back and nothing of it remains.
public struct MigrationFailedError: Error, CustomStringConvertible {
    public let migration: Migration
    public let serverMessage: String

    public var description: String { "\(migration.fileName) failed and was rolled back: \(serverMessage)" }
}
