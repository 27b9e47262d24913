import ArgumentParser
import Hummingbird
import TalktimeCore

/// `talktime serve`: runs the HTTP service until SIGTERM or SIGINT, then shuts down gracefully.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the HTTP service.")

    func run() async throws {
        let (configuration, logger) = try await CommandEnvironment.load("talktime")
        do {
            let app = try await buildApplication(configuration: configuration, logger: logger)
            try await app.runService()
        } catch let error as SchemaNotCurrentError {
            CommandEnvironment.fail("\(error)")
        } catch let error as MigrationDirectory.LoadError {
            CommandEnvironment.fail("migrations: \(error)", exitCode: CommandEnvironment.configurationExitCode)
        }
    }
}
