import Foundation
import Logging
import PostgresNIO

/// Finds the Licensee a request is for, from the `X-Licensee` slug or the request's host.
///
/// This is a lookup across tenants by design (the tenant is what it finds), so it runs in the platform scope
/// and returns only the id and licence status.
public struct LicenseeDirectory: Sendable {
    public struct Entry: Sendable, Equatable {
        public let id: UUID
        public let licenceStatus: String
    }

    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func find(slug: String, logger: Logger) async throws -> Entry? {
        guard slug.utf8.count <= 63 else { return nil }
        return try await lookup("SELECT id, licence_status FROM licensees WHERE slug = $1", slug.lowercased(), logger: logger)
    }

    public func find(host: String, logger: Logger) async throws -> Entry? {
        // Drop a port: "app.example.com:443" is served for "app.example.com".
        let name = host.split(separator: ":").first.map { String($0).lowercased() } ?? ""
        guard !name.isEmpty, name.utf8.count <= 253 else { return nil }
        return try await lookup(
            "SELECT l.id, l.licence_status FROM licensee_domains d JOIN licensees l ON l.id = d.licensee_id WHERE d.domain = $1", name,
            logger: logger)
    }

    private func lookup(_ sql: String, _ value: String, logger: Logger) async throws -> Entry? {
        try await database.withTransaction(.platform, logger: logger) { connection in
            var binds = PostgresBindings()
            binds.append(value)
            let rows = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).collect()
            return try rows.first.map { row in
                let (id, status) = try row.decode((UUID, String).self)
                return Entry(id: id, licenceStatus: status)
            }
        }
    }
}
