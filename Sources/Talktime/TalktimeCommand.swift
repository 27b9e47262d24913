import ArgumentParser

/// `talktime`: the one binary, with a subcommand for each thing an operator does (started from main.swift).
struct TalktimeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "talktime",
        abstract: "The Talktime pay-per-minute voice platform backend.",
        subcommands: [
            ServeCommand.self, MigrateCommand.self, DemoCommand.self, CreatePlatformAdminCommand.self, LedgerCommand.self, SecretsCommand.self,
        ]
    )
}
