import Configuration
import Foundation
import TalktimeSecurity
import TalktimeTestSupport

@testable import Talktime

/// Configuration as `serve` would read it, from the given environment variables on top of a working set.
func makeConfiguration(_ overrides: [String: String] = [:], database: TestDatabase? = nil) throws -> AppConfiguration {
    var environment = [
        "DATABASE_URL": database.map { "postgres://talktime_app@\($0.appURL.host):\($0.appURL.port)/\($0.name)" }
            ?? "postgres://talktime_app@127.0.0.1:1/unused",
        "MIGRATIONS_DIRECTORY": TestPostgres.migrationsDirectory,
        "HTTP_PORT": "0",
        "LOG_LEVEL": "error",
        "JWT_SIGNING_KEY": testSigningKey,
        "SECRETS_KEY": testSecretsKey,
        "BCRYPT_COST": "4",
        "LOGIN_FAILURE_DELAY_MS": "0",
    ]
    environment.merge(overrides) { _, new in new }
    return try AppConfiguration(reader: ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: environment)))
}

/// One signing key for the whole test run, in the form `JWT_SIGNING_KEY` takes.
let testSigningKey = Data(AccessTokenKeys.generate().signingKeySeed).base64EncodedString()

/// One secrets key for the whole test run, in the form `SECRETS_KEY` takes.
let testSecretsKey = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
