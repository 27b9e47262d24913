import ArgumentParser
import Configuration
import Foundation
import Logging

/// What every subcommand starts with: the configuration read from the environment (and a `.env` file in the
/// working folder, if there is one, for values the environment lacks) and logging set up from it.
enum CommandEnvironment {
    /// Exit status for a configuration problem (EX_CONFIG from sysexits.h).
    static let configurationExitCode: Int32 = 78

    static func load(_ label: String) async throws -> (AppConfiguration, Logger) {
        let configuration: AppConfiguration
        do {
            let reader = ConfigReader(providers: [
                EnvironmentVariablesProvider(),
                try await EnvironmentVariablesProvider(environmentFilePath: ".env", allowMissing: true),
            ])
            configuration = try AppConfiguration(reader: reader)
        } catch {
            fail("configuration: \(error)", exitCode: configurationExitCode)
        }
        let level = configuration.logLevel
        switch configuration.logFormat {
        case .json: LoggingSystem.bootstrap { JSONLogHandler(label: $0, level: level) }
        case .text:
            LoggingSystem.bootstrap {
                var handler = StreamLogHandler.standardOutput(label: $0)
                handler.logLevel = level
                return handler
            }
        }
        return (configuration, Logger(label: label))
    }

    /// Prints `message` to standard error and exits: for problems a person must fix before trying again.
    static func fail(_ message: String, exitCode: Int32 = 1) -> Never {
        FileHandle.standardError.write(Data("talktime: \(message)\n".utf8))
        exit(exitCode)
    }
}
