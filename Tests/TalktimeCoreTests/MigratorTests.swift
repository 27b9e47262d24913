import Foundation
import PostgresNIO
import TalktimeTestSupport
import Testing

@testable import TalktimeCore

@Suite struct MigratorTests {
    let logger = TestPostgres.logger

    static let sample = [
        Migration(version: 1, name: "create_a", sql: "CREATE TABLE a (id int PRIMARY KEY);"),
        Migration(version: 2, name: "create_b", sql: "CREATE TABLE b (id int PRIMARY KEY); INSERT INTO b VALUES (1);"),
    ]

    @Test func appliesPendingMigrationsOnceAndRecordsThem() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            try await database.withClient(database.ownerURL) { client in
                let migrator = Migrator(client: client, migrations: Self.sample, logger: logger)
                #expect(try await migrator.status().pending.map(\.version) == [1, 2])
                #expect(try await migrator.apply().map(\.version) == [1, 2])
                #expect(try await migrator.apply().isEmpty)
                let status = try await migrator.status()
                #expect(status.isCurrent)
                #expect(status.applied.map(\.checksum) == Self.sample.map(\.checksum))
            }
        }
    }

    @Test func reportsPendingMigrations() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            try await database.withClient(database.ownerURL) { client in
                try await Migrator(client: client, migrations: [Self.sample[0]], logger: logger).apply()
                let error = await #expect(throws: SchemaNotCurrentError.self) {
                    try await Migrator(client: client, migrations: Self.sample, logger: logger).requireCurrent()
                }
                #expect(error?.status.pending.map(\.fileName) == ["0002_create_b.sql"])
                #expect(error?.description.contains("pending migrations 0002_create_b.sql: run `talktime migrate`") == true)
            }
        }
    }

    @Test func refusesAnAlteredMigration() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            try await database.withClient(database.ownerURL) { client in
                try await Migrator(client: client, migrations: Self.sample, logger: logger).apply()
                let edited = [Self.sample[0], Migration(version: 2, name: "create_b", sql: "CREATE TABLE b (id bigint PRIMARY KEY);")]
                let migrator = Migrator(client: client, migrations: edited, logger: logger)
                let error = await #expect(throws: SchemaNotCurrentError.self) { try await migrator.requireCurrent() }
                #expect(error?.description.contains("0002_create_b.sql differs from the version applied") == true)
                // Applying over an edited history is refused too, and changes nothing.
                await #expect(throws: SchemaNotCurrentError.self) { try await migrator.apply() }
            }
        }
    }

    @Test func refusesAnUnknownMigration() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            try await database.withClient(database.ownerURL) { client in
                try await Migrator(client: client, migrations: Self.sample, logger: logger).apply()
                let older = Migrator(client: client, migrations: [Self.sample[0]], logger: logger)
                let error = await #expect(throws: SchemaNotCurrentError.self) { try await older.requireCurrent() }
                #expect(error?.status.unknown.map(\.version) == [2])
                #expect(error?.description.contains("recorded in the database but not in this build") == true)
            }
        }
    }

    @Test func rollsBackAFailedMigrationWhole() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            try await database.withClient(database.ownerURL) { client in
                let broken = Migration(version: 1, name: "half_broken", sql: "CREATE TABLE half (id int); SELECT no_such_column FROM half;")
                let error = await #expect(throws: MigrationFailedError.self) {
                    try await Migrator(client: client, migrations: [broken], logger: logger).apply()
                }
                #expect(error?.description.contains("0001_half_broken.sql failed and was rolled back") == true)
                let table = try await client.query("SELECT to_regclass('half')::text", logger: logger).collect().first?.decode(String?.self)
                #expect(table == .some(nil))
                #expect(try await Migrator(client: client, migrations: [broken], logger: logger).status().pending.count == 1)
            }
        }
    }

    @Test func dryRunProvesMigrationsApplyAndChangesNothing() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            try await database.withClient(database.ownerURL) { client in
                let migrator = Migrator(client: client, migrations: Self.sample, logger: logger)
                #expect(try await migrator.dryRun().map(\.version) == [1, 2])
                #expect(try await migrator.status().pending.count == 2)
                let table = try await client.query("SELECT to_regclass('a')::text", logger: logger).collect().first?.decode(String?.self)
                #expect(table == .some(nil))
            }
        }
    }

    @Test func concurrentMigratorsApplyEachMigrationExactlyOnce() async throws {
        // Each migration fails if run twice (CREATE TABLE without IF NOT EXISTS), and the slow one widens the
        // window in which the racers overlap.
        let migrations = [
            Migration(version: 1, name: "create_a", sql: "CREATE TABLE a (id int); SELECT pg_sleep(0.2);"),
            Migration(version: 2, name: "create_b", sql: "CREATE TABLE b (id int);"),
            Migration(version: 3, name: "create_c", sql: "CREATE TABLE c (id int);"),
        ]
        try await TestPostgres.withDatabase(migrated: false) { database in
            let appliedByEach = try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await database.withClient(database.ownerURL, maximumConnections: 1) { client in
                            try await Migrator(client: client, migrations: migrations, logger: logger).apply().map(\.version)
                        }
                    }
                }
                return try await group.reduce(into: [[Int]]()) { $0.append($1) }
            }
            #expect(appliedByEach.flatMap { $0 }.sorted() == [1, 2, 3])
            try await database.withClient(database.ownerURL) { client in
                let rows = try await client.query("SELECT count(*) FROM talktime_schema_migrations", logger: logger).collect()
                #expect(try rows.first?.decode(Int.self) == 3)
            }
        }
    }

    @Test func repositoryMigrationsApplyToAnEmptyDatabase() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            try await database.withClient(database.ownerURL) { client in
                let migrations = try MigrationDirectory.load(TestPostgres.migrationsDirectory)
                let migrator = Migrator(client: client, migrations: migrations, logger: logger)
                #expect(try await migrator.apply().count == migrations.count)
                try await migrator.requireCurrent()
            }
            // The service role may read the bookkeeping, which is how `serve` and /readyz check the schema.
            try await database.withClient(database.appURL) { client in
                let migrations = try MigrationDirectory.load(TestPostgres.migrationsDirectory)
                try await Migrator(client: client, migrations: migrations, logger: logger).requireCurrent()
            }
        }
    }
}
