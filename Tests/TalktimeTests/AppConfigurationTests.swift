import Configuration
import Testing

@testable import Talktime

@Suite struct AppConfigurationTests {
    func read(_ environment: [String: String]) throws(ConfigurationError) -> AppConfiguration {
        try AppConfiguration(reader: ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: environment)))
    }

    @Test func appliesDefaultsToEverythingButTheDatabase() throws {
        let configuration = try read(["DATABASE_URL": "postgres://talktime_app@127.0.0.1/talktime"])
        #expect(configuration.httpHost == "127.0.0.1")
        #expect(configuration.httpPort == 8080)
        #expect(configuration.httpMaxBodyBytes == 1_048_576)
        #expect(configuration.httpIdleTimeout == .seconds(75))
        #expect(configuration.databaseMaxConnections == 20)
        #expect(configuration.databaseOwnerURL == nil)
        #expect(configuration.corsAllowedOrigins.isEmpty)
        #expect(configuration.logLevel == .info)
        #expect(configuration.logFormat == .json)
        #expect(configuration.migrationsDirectory == "db/migrations")
        #expect(configuration.bcryptCost == 12)
    }

    @Test func readsEveryVariable() throws {
        let configuration = try read([
            "DATABASE_URL": "postgres://talktime_app:pw@db:5432/talktime?sslmode=require",
            "DATABASE_OWNER_URL": "postgres://talktime_owner:pw@db:5432/talktime?sslmode=require",
            "DATABASE_MAX_CONNECTIONS": "40",
            "HTTP_HOST": "0.0.0.0",
            "HTTP_PORT": "9090",
            "HTTP_MAX_BODY_BYTES": "2048",
            "HTTP_IDLE_TIMEOUT_SECONDS": "20",
            "CORS_ALLOWED_ORIGINS": "https://dashboard.example.com, http://localhost:3000",
            "LOG_LEVEL": "DEBUG",
            "LOG_FORMAT": "text",
            "MIGRATIONS_DIRECTORY": "/app/db/migrations",
            "BCRYPT_COST": "10",
        ])
        #expect(configuration.databaseOwnerURL?.username == "talktime_owner")
        #expect(configuration.databaseMaxConnections == 40)
        #expect(configuration.httpHost == "0.0.0.0")
        #expect(configuration.httpPort == 9090)
        #expect(configuration.httpMaxBodyBytes == 2048)
        #expect(configuration.httpIdleTimeout == .seconds(20))
        #expect(configuration.corsAllowedOrigins == ["https://dashboard.example.com", "http://localhost:3000"])
        #expect(configuration.logLevel == .debug)
        #expect(configuration.logFormat == .text)
        #expect(configuration.migrationsDirectory == "/app/db/migrations")
        #expect(configuration.bcryptCost == 10)
    }

    @Test func aMissingDatabaseURLIsNamed() {
        let error = #expect(throws: ConfigurationError.self) { try read([:]) }
        #expect(error?.description == "DATABASE_URL is not set")
    }

    @Test(arguments: [
        ("HTTP_PORT", "eighty"), ("HTTP_PORT", "70000"), ("DATABASE_MAX_CONNECTIONS", "0"), ("HTTP_MAX_BODY_BYTES", "-1"),
        ("HTTP_IDLE_TIMEOUT_SECONDS", "0"), ("HTTP_IDLE_TIMEOUT_SECONDS", "soon"),
        ("LOG_LEVEL", "loud"), ("LOG_FORMAT", "xml"), ("BCRYPT_COST", "3"), ("BCRYPT_COST", "32"),
        ("CORS_ALLOWED_ORIGINS", "https://example.com/path"), ("CORS_ALLOWED_ORIGINS", "*"), ("DATABASE_OWNER_URL", "mysql://x@y/z"),
        ("SECRETS_KEY", "c2hvcnQ="), ("SECRETS_KEY", "not base64"), ("SECRETS_KEY_ID", "a:b"), ("SECRETS_RETIRED_KEYS", "old"),
        ("LIVEKIT_LICENSEE_HOSTS", "https://livekit.example"), ("LIVEKIT_LICENSEE_HOSTS", ".livekit.cloud"),
    ])
    func aMalformedVariableIsNamed(variable: String, value: String) {
        let error = #expect(throws: ConfigurationError.self) {
            try read(["DATABASE_URL": "postgres://talktime_app@127.0.0.1/talktime", variable: value])
        }
        #expect(error?.variable == variable)
        #expect(error?.description.hasPrefix("\(variable) is malformed") == true)
    }

    @Test func aMalformedDatabaseURLIsNamedWithoutRepeatingItsPassword() {
        let error = #expect(throws: ConfigurationError.self) { try read(["DATABASE_URL": "postgres://app:s3cret-pw@/talktime"]) }
        #expect(error?.description == "DATABASE_URL is malformed: has no host")
        #expect(error?.description.contains("s3cret") == false)
    }
}
