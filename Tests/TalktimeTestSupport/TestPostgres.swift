import Foundation
import Logging
import Metrics
import PostgresNIO
import TalktimeCore

/// A real PostgreSQL for tests: `TALKTIME_TEST_POSTGRES_URL` names a superuser on a throwaway cluster
/// (scripts/test makes one, with the roles of db/bootstrap.sql and password-less local access).
///
/// The repository's migrations are applied once per test process into a template database; each test then
/// gets a fresh copy with `CREATE DATABASE ... TEMPLATE`, which takes milliseconds, and drops it after.
public enum TestPostgres {
    /// Quiet below errors: the pool's start-up chatter would bury the test report.
    public static let logger: Logger = {
        var logger = Logger(label: "talktime.tests")
        logger.logLevel = .error
        return logger
    }()

    /// The repository's `db/migrations`, found from this file's place in the tree.
    public static let migrationsDirectory: String = {
        let here = URL(fileURLWithPath: #filePath)
        return here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("db/migrations").path
    }()

    public static func adminURL() throws -> DatabaseURL {
        guard let text = ProcessInfo.processInfo.environment["TALKTIME_TEST_POSTGRES_URL"] else {
            throw MissingTestDatabase()
        }
        return try DatabaseURL(text)
    }

    /// Runs `body` with a database of its own: migrated from the template, or empty when `migrated` is false.
    @discardableResult
    public static func withDatabase<Result: Sendable>(
        migrated: Bool = true,
        _ body: (TestDatabase) async throws -> Result
    ) async throws -> Result {
        let admin = try adminURL()
        let name = "tt_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        let template = migrated ? try await TemplateDatabase.shared.name(admin: admin) : "template0"
        try await AdminConnection.execute("CREATE DATABASE \(name) TEMPLATE \(template) OWNER talktime_owner", admin: admin)
        let database = TestDatabase(name: name, admin: admin)
        do {
            let result = try await body(database)
            try await AdminConnection.execute("DROP DATABASE \(name) WITH (FORCE)", admin: admin)
            return result
        } catch {
            try? await AdminConnection.execute("DROP DATABASE \(name) WITH (FORCE)", admin: admin)
            throw error
        }
    }

    /// Runs `body` with a migrated database of its own, reached as the service's role: what most tests of the
    /// domain need, without the `TestDatabase` in between.
    @discardableResult
    public static func withAppDatabase<Result: Sendable>(
        maximumConnections: Int = 8, _ body: (Database) async throws -> Result
    ) async throws -> Result {
        try await withDatabase { testDatabase in
            try await testDatabase.withAppDatabase(maximumConnections: maximumConnections, body)
        }
    }
}

public struct MissingTestDatabase: Error, CustomStringConvertible {
    public var description: String {
        "TALKTIME_TEST_POSTGRES_URL is not set: run the tests with scripts/test, which starts a PostgreSQL for them"
    }
}

/// One test's database, reachable as each of the three roles.
public struct TestDatabase: Sendable {
    public let name: String
    let admin: DatabaseURL

    init(name: String, admin: DatabaseURL) {
        self.name = name
        self.admin = admin
    }

    /// As the role the service connects as (`talktime_app`).
    public var appURL: DatabaseURL { admin.withDatabase(name).withUser("talktime_app", password: nil) }
    /// As the owner that migrations run as (`talktime_owner`).
    public var ownerURL: DatabaseURL { admin.withDatabase(name).withUser("talktime_owner", password: nil) }
    /// As the superuser, for inspecting what the other roles cannot see.
    public var superuserURL: DatabaseURL { admin.withDatabase(name) }

    /// Runs `body` with a running client for `url`, then shuts the client down.
    @discardableResult
    public func withClient<Result: Sendable>(
        _ url: DatabaseURL,
        maximumConnections: Int = 8,
        _ body: (PostgresClient) async throws -> Result
    ) async throws -> Result {
        let client = PostgresClient(
            configuration: url.clientConfiguration(maximumConnections: maximumConnections), backgroundLogger: TestPostgres.logger)
        return try await client.whileRunning { try await body(client) }
    }

    /// A `Database` as the service role, with metrics going nowhere.
    public func withAppDatabase<Result: Sendable>(maximumConnections: Int = 8, _ body: (Database) async throws -> Result) async throws -> Result {
        try await withClient(appURL, maximumConnections: maximumConnections) { client in
            try await body(
                Database(
                    client: client, poolMetrics: DatabasePoolMetrics(maximumConnections: maximumConnections, factory: NOOPMetricsHandler.instance)))
        }
    }
}

/// Makes the migrated template once per test process.
actor TemplateDatabase {
    static let shared = TemplateDatabase()
    private var ready: Task<String, any Error>?

    func name(admin: DatabaseURL) async throws -> String {
        if let ready { return try await ready.value }
        let task = Task { try await Self.create(admin: admin) }
        ready = task
        return try await task.value
    }

    private static func create(admin: DatabaseURL) async throws -> String {
        let name = "talktime_template"
        // Left over from an earlier run: a template database cannot be dropped until it stops being one.
        try await AdminConnection.execute("UPDATE pg_database SET datistemplate = false WHERE datname = '\(name)'", admin: admin)
        try await AdminConnection.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", admin: admin)
        try await AdminConnection.execute("CREATE DATABASE \(name) OWNER talktime_owner", admin: admin)
        let owner = admin.withDatabase(name).withUser("talktime_owner", password: nil)
        let client = PostgresClient(configuration: owner.clientConfiguration(maximumConnections: 1), backgroundLogger: TestPostgres.logger)
        try await client.whileRunning {
            let migrations = try MigrationDirectory.load(TestPostgres.migrationsDirectory)
            try await Migrator(client: client, migrations: migrations, logger: TestPostgres.logger).apply()
        }
        // A template must have no sessions when it is copied; the pool may still be closing its connection.
        try await AdminConnection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name)' AND pid <> pg_backend_pid()", admin: admin)
        try await AdminConnection.execute("ALTER DATABASE \(name) WITH IS_TEMPLATE true ALLOW_CONNECTIONS false", admin: admin)
        return name
    }
}

/// Short superuser sessions on the cluster's `postgres` database, for creating and dropping databases.
enum AdminConnection {
    static func execute(_ sql: String, admin: DatabaseURL) async throws {
        let client = PostgresClient(configuration: admin.clientConfiguration(maximumConnections: 1), backgroundLogger: TestPostgres.logger)
        do {
            try await client.whileRunning {
                try await client.query(PostgresQuery(unsafeSQL: sql), logger: TestPostgres.logger)
            }
        } catch let error as PSQLError {
            // PSQLError hides its details from `description`; a failing test needs them.
            throw AdminStatementError(description: "\(sql): \(String(reflecting: error))")
        }
    }
}

struct AdminStatementError: Error, CustomStringConvertible {
    let description: String
}
