import Foundation
import PostgresNIO
import TalktimeTestSupport
import Testing

@testable import TalktimeCore

/// Row level security tried from the service role's side: queries that forget their tenant filter, writes
/// aimed at another tenant, and transactions that set no tenant at all.
@Suite struct TenantIsolationTests {
    let logger = TestPostgres.logger

    struct Tenants {
        let alpha: UUID
        let beta: UUID
    }

    /// Two Licensees, each with an admin, an advisor (with profile) and an End User, and a domain.
    func seedTwoTenants(_ database: Database) async throws -> Tenants {
        try await database.withTransaction(.platform, logger: logger) { connection in
            var ids: [UUID] = []
            for slug in ["alpha", "beta"] {
                let id = try await connection.query(
                    "INSERT INTO licensees (slug, name, app_name, currency) VALUES (\(slug), \(slug), \(slug), 'EUR') RETURNING id",
                    logger: logger
                ).collect().first!.decode(UUID.self)
                try await connection.query("INSERT INTO licensee_domains (domain, licensee_id) VALUES (\(slug + ".example"), \(id))", logger: logger)
                for role in ["licensee_admin", "advisor", "end_user"] {
                    let userID = try await connection.query(
                        """
                        INSERT INTO users (licensee_id, role, email, password_hash, display_name)
                        VALUES (\(id), \(role), \(role + "@" + slug + ".example"), 'x', \(role)) RETURNING id
                        """,
                        logger: logger
                    ).collect().first!.decode(UUID.self)
                    if role == "advisor" {
                        try await connection.query(
                            "INSERT INTO advisor_profiles (user_id, licensee_id, rate_per_minute_minor) VALUES (\(userID), \(id), 100)",
                            logger: logger)
                    }
                }
                ids.append(id)
            }
            return Tenants(alpha: ids[0], beta: ids[1])
        }
    }

    func emails(_ database: Database, _ scope: TenantScope) async throws -> [String] {
        try await database.withTransaction(scope, logger: logger) { connection in
            // Deliberately no WHERE licensee_id: the policy must do the filtering.
            try await connection.query("SELECT email FROM users ORDER BY email", logger: logger).collect().map { try $0.decode(String.self) }
        }
    }

    @Test func aTenantSeesOnlyItsOwnRowsWhenItsQueryForgetsTheFilter() async throws {
        try await TestPostgres.withAppDatabase { database in
            let tenants = try await seedTwoTenants(database)
            #expect(
                try await emails(database, .licensee(tenants.alpha)) == [
                    "advisor@alpha.example", "end_user@alpha.example", "licensee_admin@alpha.example",
                ])
            #expect(try await emails(database, .licensee(tenants.beta)).allSatisfy { $0.hasSuffix("@beta.example") })
            #expect(try await emails(database, .platform).count == 6)
            try await database.withTransaction(.licensee(tenants.alpha), logger: logger) { connection in
                for table in ["licensees", "licensee_domains", "advisor_profiles"] {
                    let count = try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"), logger: logger)
                        .collect().first!.decode(Int.self)
                    #expect(count == 1, "\(table)")
                }
            }
        }
    }

    @Test func withNoTenantSetNoTenantRowIsVisible() async throws {
        try await TestPostgres.withAppDatabase { database in
            _ = try await seedTwoTenants(database)
            try await database.withConnection(logger: logger) { connection in
                for table in ["licensees", "licensee_domains", "users", "advisor_profiles", "platform_admins"] {
                    let count = try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"), logger: logger)
                        .collect().first!.decode(Int.self)
                    #expect(count == 0, "\(table)")
                }
            }
        }
    }

    @Test func theScopeEndsWithItsTransactionOnAPooledConnection() async throws {
        try await TestPostgres.withDatabase { testDatabase in
            // One connection, so the second transaction surely reuses the first one's session.
            try await testDatabase.withAppDatabase(maximumConnections: 1) { database in
                let tenants = try await seedTwoTenants(database)
                #expect(try await emails(database, .licensee(tenants.alpha)).count == 3)
                let leaked = try await database.withConnection(logger: logger) { connection in
                    try await connection.query("SELECT count(*) FROM users", logger: logger).collect().first!.decode(Int.self)
                }
                #expect(leaked == 0)
            }
        }
    }

    @Test func aTenantCannotWriteIntoAnotherTenant() async throws {
        try await TestPostgres.withAppDatabase { database in
            let tenants = try await seedTwoTenants(database)
            // Inserting a row that names the other tenant violates the policy's WITH CHECK.
            await #expect(throws: PSQLError.self) {
                try await database.withTransaction(.licensee(tenants.alpha), logger: logger) { connection in
                    try await connection.query(
                        "INSERT INTO users (licensee_id, role, email, password_hash, display_name) VALUES (\(tenants.beta), 'end_user', 'x@beta.example', 'x', 'x')",
                        logger: logger)
                }
            }
            // Updates and deletes aimed at the other tenant's rows find nothing to touch.
            try await database.withTransaction(.licensee(tenants.alpha), logger: logger) { connection in
                try await connection.query("UPDATE users SET display_name = 'hijacked' WHERE licensee_id = \(tenants.beta)", logger: logger)
                try await connection.query("DELETE FROM users WHERE licensee_id = \(tenants.beta)", logger: logger)
                // Moving one's own row into the other tenant is refused too.
                await #expect(throws: PSQLError.self) {
                    try await connection.query("UPDATE users SET licensee_id = \(tenants.beta)", logger: logger)
                }
            }
            let beta = try await emails(database, .licensee(tenants.beta))
            #expect(beta.count == 3)
            let names = try await database.withTransaction(.licensee(tenants.beta), logger: logger) { connection in
                try await connection.query("SELECT display_name FROM users", logger: logger).collect().map { try $0.decode(String.self) }
            }
            #expect(!names.contains("hijacked"))
        }
    }

    @Test func aChildRowCannotPointAtAnotherTenantsUser() async throws {
        try await TestPostgres.withAppDatabase { database in
            let tenants = try await seedTwoTenants(database)
            await #expect(throws: PSQLError.self) {
                try await database.withTransaction(.platform, logger: logger) { connection in
                    // beta's end user, claimed as an advisor profile of alpha.
                    try await connection.query(
                        """
                        INSERT INTO advisor_profiles (user_id, licensee_id, rate_per_minute_minor)
                        SELECT id, \(tenants.alpha), 100 FROM users WHERE licensee_id = \(tenants.beta) AND role = 'end_user'
                        """,
                        logger: logger)
                }
            }
        }
    }
}
