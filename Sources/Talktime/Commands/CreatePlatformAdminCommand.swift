import ArgumentParser
import Foundation
import Metrics
import PostgresNIO
import TalktimeCore

/// `talktime create-platform-admin --email ... --name ...`: makes a platform admin. The password is read from
/// standard input, never from the command line, where other users and shell histories could see it.
struct CreatePlatformAdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-platform-admin",
        abstract: "Create a platform admin; the password is read from standard input."
    )

    @Option(help: "The admin's email address, which is also the login.")
    var email: String

    @Option(help: "The admin's display name.")
    var name: String = "Platform Admin"

    func run() async throws {
        let (configuration, logger) = try await CommandEnvironment.load("talktime.admin")
        if isatty(STDIN_FILENO) != 0 {
            FileHandle.standardError.write(Data("Password (then Enter): ".utf8))
        }
        guard let password = readLine(strippingNewline: true), !password.isEmpty else {
            CommandEnvironment.fail("no password on standard input")
        }
        let client = PostgresClient(configuration: configuration.databaseURL.clientConfiguration(maximumConnections: 2), backgroundLogger: logger)
        let database = Database(client: client, poolMetrics: DatabasePoolMetrics(maximumConnections: 2, factory: NOOPMetricsHandler.instance))
        let hasher = PasswordHasher(cost: configuration.bcryptCost, threads: 1, queueLimit: 0)
        do {
            let id = try await client.whileRunning {
                try await RegistrationService.createPlatformAdmin(
                    email: email, password: password, displayName: name, database: database, hasher: hasher, logger: logger)
            }
            print("Platform admin \(id.uuidString.lowercased()) created for \(email).")
        } catch let error as IdentityError {
            switch error {
            case .emailTaken: CommandEnvironment.fail("a platform admin with this email exists already")
            case .passwordRejected(let violation): CommandEnvironment.fail("password rejected: \(violation)")
            case .invalidInput(let detail): CommandEnvironment.fail(detail)
            default: CommandEnvironment.fail("\(error)")
            }
        }
    }
}
