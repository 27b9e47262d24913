import Foundation
import PostgresNIO

/// A PostgreSQL connection URL (`postgres://user:password@host:port/database?sslmode=...`) parsed into the
/// settings `PostgresClient` needs.
///
/// `sslmode` takes `disable` or `require` (`require` verifies the server certificate). Without it, loopback
/// hosts connect in plain text and every other host requires TLS, so a forgotten parameter never sends a
/// password across a network unencrypted.
public struct DatabaseURL: Sendable, Equatable {
    public enum TLSMode: String, Sendable {
        case disable
        case require
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tlsMode: TLSMode

    /// Why a string is not a usable database URL. The text never repeats the URL, which may hold a password.
    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(host: String, port: Int = 5432, username: String, password: String?, database: String, tlsMode: TLSMode? = nil) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tlsMode = tlsMode ?? (Self.isLoopback(host) ? .disable : .require)
    }

    public init(_ string: String) throws(ParseError) {
        guard let components = URLComponents(string: string),
            let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme)
        else {
            throw ParseError(description: "must look like postgres://user:password@host:5432/database")
        }
        guard let host = components.host, !host.isEmpty else { throw ParseError(description: "has no host") }
        guard let username = components.user, !username.isEmpty else { throw ParseError(description: "has no user name") }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else { throw ParseError(description: "has no database name in its path") }
        var tlsMode: TLSMode?
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    throw ParseError(description: "has an sslmode other than disable or require")
                }
                tlsMode = mode
            default:
                throw ParseError(description: "has an unsupported parameter '\(item.name)' (only sslmode is read)")
            }
        }
        self.init(
            host: host,
            port: components.port ?? 5432,
            username: username.removingPercentEncoding ?? username,
            password: components.password.map { $0.removingPercentEncoding ?? $0 },
            database: database.removingPercentEncoding ?? database,
            tlsMode: tlsMode
        )
    }

    /// The same server and credentials, another database: tests copy a template into databases of their own.
    public func withDatabase(_ database: String) -> DatabaseURL {
        var copy = self
        copy.database = database
        return copy
    }

    /// The same server and database as another role.
    public func withUser(_ username: String, password: String?) -> DatabaseURL {
        var copy = self
        copy.username = username
        copy.password = password
        return copy
    }

    public func clientConfiguration(maximumConnections: Int = 20) -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS =
            switch tlsMode {
            case .disable: .disable
            case .require: .require(.makeClientConfiguration())
            }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.maximumConnections = maximumConnections
        return configuration
    }

    /// The settings of a single connection of its own, outside the pool (for `LISTEN`, which holds one).
    public func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS =
            switch tlsMode {
            case .disable: .disable
            case .require: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
        return PostgresConnection.Configuration(host: host, port: port, username: username, password: password, database: database, tls: tls)
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }
}
