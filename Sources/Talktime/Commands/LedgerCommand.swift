import ArgumentParser
import Logging
import Metrics
import PostgresNIO
import TalktimeCore

/// `talktime ledger verify`: checks the whole ledger, as the service role with platform scope, and exits 1 when
/// anything is wrong (an unbalanced transaction, a balance that is not the sum of its entries, a wallet taken
/// below zero by anything but a refund or dispute).
struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Inspect the money ledger.",
        subcommands: [Verify.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check every transaction and balance; exits 1 if any is wrong.")

        func run() async throws {
            let (configuration, logger) = try await CommandEnvironment.load("talktime.ledger")
            let client = PostgresClient(
                configuration: configuration.databaseURL.clientConfiguration(maximumConnections: 1), backgroundLogger: logger)
            let report = try await client.whileRunning {
                let database = Database(client: client, poolMetrics: DatabasePoolMetrics(maximumConnections: 1, factory: NOOPMetricsHandler.instance))
                return try await LedgerVerifier(database: database).verify(logger: logger)
            }
            print("Checked \(report.transactions) transactions, \(report.entries) entries, \(report.accounts) accounts.")
            for problem in report.problems { print("- \(problem)") }
            guard report.isHealthy else {
                print("The ledger has \(report.problems.count) problem(s).")
                throw ExitCode(1)
            }
            print("The ledger is consistent.")
        }
    }
}
