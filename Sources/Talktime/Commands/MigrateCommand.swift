import ArgumentParser
import Logging
import PostgresNIO
import TalktimeCore

/// `talktime migrate`: applies, dry-runs or reports the SQL migrations of `MIGRATIONS_DIRECTORY`, connected
/// as the owner role (`DATABASE_OWNER_URL`, or `DATABASE_URL` when that is unset).
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply or inspect database migrations.",
        subcommands: [Apply.self, Status.self],
        defaultSubcommand: Apply.self
    )

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply every pending migration (the default).")

        @Flag(help: "Run the pending migrations in a transaction that is rolled back: proves they apply, changes nothing.")
        var dryRun = false

        func run() async throws {
            try await MigrateCommand.withMigrator { migrator in
                if dryRun {
                    let pending = try await migrator.dryRun()
                    print(pending.isEmpty ? "Nothing to apply." : "Would apply (checked and rolled back):")
                    for migration in pending { print("  \(migration.fileName)") }
                } else {
                    let applied = try await migrator.apply()
                    print(applied.isEmpty ? "Schema is current; nothing applied." : "Applied:")
                    for migration in applied { print("  \(migration.fileName)") }
                }
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List applied and pending migrations; exits 1 unless the schema is current.")

        func run() async throws {
            let current = try await MigrateCommand.withMigrator { migrator in
                let status = try await migrator.status()
                for migration in status.applied { print("applied  \(migration.fileName)") }
                for migration in status.pending { print("pending  \(migration.fileName)") }
                for migration in status.altered { print("ALTERED  \(migration.fileName)") }
                for migration in status.unknown { print("UNKNOWN  \(migration.fileName)") }
                for problem in status.problems { print("- \(problem)") }
                return status.isCurrent
            }
            if !current { throw ExitCode(1) }
        }
    }

    static func withMigrator<Result: Sendable>(_ body: (Migrator) async throws -> Result) async throws -> Result {
        let (configuration, logger) = try await CommandEnvironment.load("talktime.migrate")
        let migrations: [Migration]
        do {
            migrations = try MigrationDirectory.load(configuration.migrationsDirectory)
        } catch {
            CommandEnvironment.fail("migrations: \(error)", exitCode: CommandEnvironment.configurationExitCode)
        }
        let url = configuration.databaseOwnerURL ?? configuration.databaseURL
        let client = PostgresClient(configuration: url.clientConfiguration(maximumConnections: 2), backgroundLogger: logger)
        do {
            return try await client.whileRunning {
                try await body(Migrator(client: client, migrations: migrations, logger: logger))
            }
        } catch let error as SchemaNotCurrentError {
            CommandEnvironment.fail("\(error)")
        } catch let error as MigrationFailedError {
            CommandEnvironment.fail("\(error)")
        }
    }
}
