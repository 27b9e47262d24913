import Foundation
import PostgresNIO
import TalktimeTestSupport
import Testing

@testable import TalktimeCore

@Suite struct LicenseeDirectoryTests {
    let logger = TestPostgres.logger

    @Test func findsLicenseesBySlugAndByCustomDomain() async throws {
        try await TestPostgres.withAppDatabase { database in
            let id = try await database.withTransaction(.platform, logger: logger) { connection in
                let id = try await connection.query(
                    "INSERT INTO licensees (slug, name, app_name, currency) VALUES ('acme', 'Acme', 'Acme', 'USD') RETURNING id", logger: logger
                ).collect().first!.decode(UUID.self)
                try await connection.query(
                    "INSERT INTO licensee_domains (domain, licensee_id) VALUES ('talk.acme.example', \(id))", logger: logger)
                return id
            }
            let directory = LicenseeDirectory(database: database)
            #expect(try await directory.find(slug: "acme", logger: logger) == .init(id: id, licenceStatus: "trialing"))
            #expect(try await directory.find(slug: "ACME", logger: logger)?.id == id)
            #expect(try await directory.find(host: "talk.acme.example", logger: logger)?.id == id)
            #expect(try await directory.find(host: "Talk.Acme.Example:443", logger: logger)?.id == id)
            #expect(try await directory.find(host: "acme.example", logger: logger) == nil)
            #expect(try await directory.find(slug: "nobody", logger: logger) == nil)
            #expect(try await directory.find(slug: String(repeating: "a", count: 500), logger: logger) == nil)
        }
    }
}
