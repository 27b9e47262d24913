import Configuration
import Foundation
import Logging
import TalktimeCore
import TalktimeIntegrations
import TalktimeSecurity

/// Everything the service reads from its environment, read once at start and checked.
///
/// Keys are written the swift-configuration way (`http.port`) and come from environment variables of the
/// matching name (`HTTP_PORT`). The README's table lists each one.
struct AppConfiguration: Sendable {
    enum LogFormat: String, Sendable {
        case json
        case text
    }

    var databaseURL: DatabaseURL
    /// The owner role's URL, which migrations run as; nil means "the same as databaseURL".
    var databaseOwnerURL: DatabaseURL?
    var databaseMaxConnections: Int
    var httpHost: String
    var httpPort: Int
    var httpMaxBodyBytes: Int
    /// How long a connection may send nothing (between requests, or in the middle of one) before it is closed.
    var httpIdleTimeout: Duration
    var corsAllowedOrigins: [String]
    var logLevel: Logger.Level
    var logFormat: LogFormat
    var migrationsDirectory: String
    var bcryptCost: UInt8
    var identity: IdentityConfiguration
    var stripe: StripeConfiguration
    var calls: CallConfiguration
    var push: PushConfiguration
    var secrets: SecretBox?

    /// Reads and validates every value; the first missing or malformed one stops with an error naming it.
    init(reader: ConfigReader) throws(ConfigurationError) {
        let values = ConfigurationValues(reader: reader)
        databaseURL = try values.required("database.url") { try DatabaseURL($0) }
        databaseOwnerURL = try values.optional("database.owner.url") { try DatabaseURL($0) }
        databaseMaxConnections = try values.optional("database.max.connections", default: 20) {
            Int($0).flatMap { (1...1000).contains($0) ? $0 : nil }
        }
        httpHost = try values.optional("http.host", default: "127.0.0.1") { $0.isEmpty ? nil : $0 }
        httpPort = try values.optional("http.port", default: 8080) { Int($0).flatMap { (0...65535).contains($0) ? $0 : nil } }
        httpMaxBodyBytes = try values.optional("http.max.body.bytes", default: 1_048_576) { Int($0).flatMap { $0 > 0 ? $0 : nil } }
        // Longer than the 60 s idle timeout of common load balancers, so that the proxy, not the service, closes a
        // kept-alive connection (closing under a proxy's request makes a 502).
        httpIdleTimeout = try values.optional("http.idle.timeout.seconds", default: .seconds(75)) {
            IdentityConfiguration.seconds($0, 1...3600)
        }
        corsAllowedOrigins = try values.optional("cors.allowed.origins", default: []) { Self.parseOrigins($0) }
        logLevel = try values.optional("log.level", default: .info) { Logger.Level(rawValue: $0.lowercased()) }
        logFormat = try values.optional("log.format", default: .json) { LogFormat(rawValue: $0.lowercased()) }
        migrationsDirectory = try values.optional("migrations.directory", default: "db/migrations") { $0.isEmpty ? nil : $0 }
        bcryptCost = try values.optional("bcrypt.cost", default: 12) { UInt8($0).flatMap { (4...31).contains($0) ? $0 : nil } }
        identity = try IdentityConfiguration(values: values)
        stripe = try StripeConfiguration(values: values)
        calls = try CallConfiguration(values: values)
        push = try PushConfiguration(values: values)
        secrets = try Self.secretBox(values)
    }

    /// Origins such as `https://dashboard.example.com`, comma-separated; each must be scheme and host only.
    static func parseOrigins(_ text: String) -> [String]? {
        let origins = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for origin in origins {
            guard let components = URLComponents(string: origin), let scheme = components.scheme,
                ["http", "https"].contains(scheme), components.host != nil, components.path.isEmpty,
                components.query == nil
            else { return nil }
        }
        return origins
    }
}

/// A configuration value is missing or malformed. Names the environment variable, never repeats its value
/// (it may be a secret).
struct ConfigurationError: Error, CustomStringConvertible {
    let variable: String
    let problem: String

    var description: String { "\(variable) \(problem)" }
}

/// Reads strings from a `ConfigReader` and turns them into typed values with errors that name the variable.
struct ConfigurationValues {
    let reader: ConfigReader

    func required<Value>(_ key: String, parse: (String) throws -> Value?) throws(ConfigurationError) -> Value {
        guard let text = text(key) else {
            throw ConfigurationError(variable: Self.variableName(key), problem: "is not set")
        }
        return try convert(key, text, parse)
    }

    func optional<Value>(_ key: String, default value: Value, parse: (String) throws -> Value?) throws(ConfigurationError) -> Value {
        guard let text = text(key) else { return value }
        return try convert(key, text, parse)
    }

    func optional<Value>(_ key: String, parse: (String) throws -> Value?) throws(ConfigurationError) -> Value? {
        guard let text = text(key) else { return nil }
        return try convert(key, text, parse)
    }

    /// The variable's text; an empty value counts as unset, as in a copied `.env.example`.
    private func text(_ key: String) -> String? {
        guard let text = reader.string(forKey: ConfigKey(key), isSecret: true), !text.isEmpty else { return nil }
        return text
    }

    private func convert<Value>(_ key: String, _ text: String, _ parse: (String) throws -> Value?) throws(ConfigurationError) -> Value {
        let value: Value?
        do {
            value = try parse(text)
        } catch {
            throw ConfigurationError(variable: Self.variableName(key), problem: "is malformed: \(error)")
        }
        guard let value else {
            throw ConfigurationError(variable: Self.variableName(key), problem: "is malformed: see the README's table of variables")
        }
        return value
    }

    /// `database.owner.url` is read from `DATABASE_OWNER_URL`.
    static func variableName(_ key: String) -> String {
        key.uppercased().replacingOccurrences(of: ".", with: "_")
    }
}
