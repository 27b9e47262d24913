import Crypto
import Foundation

/// One numbered SQL file from `db/migrations/`, e.g. `0001_create_tenancy.sql`.
///
/// Once a migration has landed it is never edited: its checksum is recorded when it is applied, and a
/// server that meets a different file under the same number refuses to start.
public struct Migration: Sendable, Hashable {
    public let version: Int
    public let name: String
    public let sql: String
    public let checksum: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
        self.checksum = SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    public var fileName: String { String(format: "%04d_%@.sql", version, name) }
}

/// A recorded row of `talktime_schema_migrations`.
public struct AppliedMigration: Sendable, Hashable {
    public let version: Int
    public let name: String
    public let checksum: String

    public var fileName: String { String(format: "%04d_%@.sql", version, name) }
}
