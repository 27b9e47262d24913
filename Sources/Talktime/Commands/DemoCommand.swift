import ArgumentParser
import Metrics
import PostgresNIO
import TalktimeCore

/// `talktime demo`: seeds a demo Licensee with an admin, an advisor and an End User and prints their logins.
/// Run again, it leaves the existing demo data alone.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo", abstract: "Seed demo data and print its logins.")

    func run() async throws {
        let (configuration, logger) = try await CommandEnvironment.load("talktime.demo")
        let client = PostgresClient(configuration: configuration.databaseURL.clientConfiguration(maximumConnections: 2), backgroundLogger: logger)
        let database = Database(client: client, poolMetrics: DatabasePoolMetrics(maximumConnections: 2, factory: NOOPMetricsHandler.instance))
        let seeder = DemoSeeder(database: database, hasher: PasswordHasher(cost: configuration.bcryptCost))
        let logins = try await client.whileRunning { try await seeder.seedIfAbsent(logger: logger) }
        guard let logins else {
            print("Demo Licensee '\(DemoSeeder.licenseeSlug)' already exists; its logins were printed when it was made.")
            return
        }
        print("Demo Licensee '\(DemoSeeder.licenseeSlug)' created (send X-Licensee: \(DemoSeeder.licenseeSlug)). Logins:")
        for login in logins {
            print("  \(login.role.rawValue.padding(toLength: 15, withPad: " ", startingAt: 0)) \(login.email)  \(login.password)")
        }
    }
}
