import ArgumentParser
import Logging
import Metrics
import PostgresNIO
import TalktimeCore

/// `talktime secrets reseal`: after a new `SECRETS_KEY` (the old one moved to `SECRETS_RETIRED_KEYS`), seals
/// every stored secret again under the new key, so that the old one can then be dropped. Exits 1 when a secret
/// opens with no configured key.
struct SecretsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secrets",
        abstract: "Manage the secrets Licensees keep with the service.",
        subcommands: [Reseal.self]
    )

    struct Reseal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Seal every stored secret again under the current SECRETS_KEY.")

        func run() async throws {
            let (configuration, logger) = try await CommandEnvironment.load("talktime.secrets")
            guard let box = configuration.secrets else {
                print("SECRETS_KEY is not set: there is no key to seal with.")
                throw ExitCode(1)
            }
            let client = PostgresClient(
                configuration: configuration.databaseURL.clientConfiguration(maximumConnections: 1), backgroundLogger: logger)
            let outcome = try await client.whileRunning {
                let database = Database(client: client, poolMetrics: DatabasePoolMetrics(maximumConnections: 1, factory: NOOPMetricsHandler.instance))
                return try await SecretResealer(database: database, box: box).run(logger: logger)
            }
            print("Sealed again under key \(box.currentKeyID): \(outcome.resealed); already under it: \(outcome.current).")
            guard outcome.unreadable == 0 else {
                print("\(outcome.unreadable) secret(s) open with no configured key; their Licensees' admins must set them again.")
                throw ExitCode(1)
            }
        }
    }
}
