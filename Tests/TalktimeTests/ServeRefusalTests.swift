import Foundation
import Hummingbird
import PostgresNIO
import TalktimeCore
import TalktimeTestSupport
import Testing

@testable import Talktime

/// `serve` refuses to start on a schema this build does not know, and says what to do.
@Suite struct ServeRefusalTests {
    /// Runs the application exactly as `serve` does and returns the error it stopped with.
    func serveError(database: TestDatabase, migrationsDirectory: String = TestPostgres.migrationsDirectory) async throws -> SchemaNotCurrentError? {
        let configuration = try makeConfiguration(["MIGRATIONS_DIRECTORY": migrationsDirectory], database: database)
        let app = try await buildApplication(configuration: configuration, logger: TestPostgres.logger)
        return await #expect(throws: SchemaNotCurrentError.self) { try await app.runService() }
    }

    /// A copy of the repository's migrations, changed by `edit`.
    func migrationsCopy(_ edit: (URL) throws -> Void) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("migrations-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: TestPostgres.migrationsDirectory), to: directory)
        try edit(directory)
        return directory.path
    }

    @Test func refusesPendingMigrations() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let error = try await serveError(database: database)
            #expect(error?.description.contains("pending migrations 0001_create_tenancy.sql, 0002_") == true)
            #expect(error?.description.hasSuffix(": run `talktime migrate`") == true)
        }
    }

    @Test func refusesANewMigrationNotYetApplied() async throws {
        try await TestPostgres.withDatabase { database in
            let directory = try migrationsCopy { folder in
                try "CREATE TABLE later (id int);".write(
                    to: folder.appendingPathComponent("0999_create_later.sql"), atomically: true, encoding: .utf8)
            }
            let error = try await serveError(database: database, migrationsDirectory: directory)
            #expect(error?.description.contains("pending migrations 0999_create_later.sql: run `talktime migrate`") == true)
        }
    }

    @Test func refusesAnAlteredMigration() async throws {
        try await TestPostgres.withDatabase { database in
            let directory = try migrationsCopy { folder in
                let file = folder.appendingPathComponent("0001_create_tenancy.sql")
                try (try String(contentsOf: file, encoding: .utf8) + "\n-- edited after landing\n").write(to: file, atomically: true, encoding: .utf8)
            }
            let error = try await serveError(database: database, migrationsDirectory: directory)
            #expect(error?.description.contains("0001_create_tenancy.sql differs from the version applied to this database") == true)
        }
    }

    @Test func refusesAnUnknownMigration() async throws {
        try await TestPostgres.withDatabase { database in
            try await database.withClient(database.ownerURL) { owner in
                try await owner.query(
                    "INSERT INTO talktime_schema_migrations (version, name, checksum) VALUES (9999, 'from_the_future', 'x')",
                    logger: TestPostgres.logger)
            }
            let error = try await serveError(database: database)
            #expect(error?.description.contains("migration 9999_from_the_future.sql is recorded in the database but not in this build") == true)
        }
    }
}
