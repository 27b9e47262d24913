import PostgresNIO
import TalktimeTestSupport
import Testing

@testable import TalktimeCore

/// Checks the catalog rather than single tables, so a table added later cannot forget its isolation.
@Suite struct DatabaseCatalogTests {
    let logger = TestPostgres.logger

    @Test func everyTenantTableHasRowLevelSecurityForcedWithAPolicy() async throws {
        try await TestPostgres.withDatabase { database in
            try await database.withClient(database.superuserURL) { client in
                let rows = try await client.query(
                    """
                    SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                           (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)::int
                    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
                      AND (c.relname IN ('licensees', 'platform_admins')
                           OR EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'licensee_id' AND NOT a.attisdropped))
                    ORDER BY c.relname
                    """,
                    logger: logger
                )
                var checked: [String] = []
                for try await (table, enabled, forced, policies) in rows.decode((String, Bool, Bool, Int).self) {
                    #expect(enabled, "\(table): row level security is not enabled")
                    #expect(forced, "\(table): row level security is not forced")
                    #expect(policies > 0, "\(table): has no policy")
                    checked.append(table)
                }
                #expect(Set(checked).isSuperset(of: ["licensees", "licensee_domains", "users", "advisor_profiles", "platform_admins"]))
            }
        }
    }

    @Test func theServiceRoleOwnsNothingAndCannotBypassRowLevelSecurity() async throws {
        try await TestPostgres.withDatabase { database in
            try await database.withClient(database.superuserURL) { client in
                let role = try await client.query(
                    "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = 'talktime_app'", logger: logger
                ).collect().first!.decode((Bool, Bool, Bool, Bool).self)
                #expect(role == (false, false, false, false))
                let owned = try await client.query(
                    """
                    SELECT (SELECT count(*) FROM pg_class WHERE relowner = r.oid)
                         + (SELECT count(*) FROM pg_proc WHERE proowner = r.oid)
                         + (SELECT count(*) FROM pg_namespace WHERE nspowner = r.oid)
                         + (SELECT count(*) FROM pg_database WHERE datdba = r.oid)
                    FROM pg_roles r WHERE r.rolname = 'talktime_app'
                    """,
                    logger: logger
                ).collect().first!.decode(Int.self)
                #expect(owned == 0)
                let member = try await client.query(
                    "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = 'talktime_app'", logger: logger
                ).collect().first!.decode(Int.self)
                #expect(member == 0, "talktime_app must not inherit another role's rights")
            }
        }
    }

    /// db/bootstrap.sql sets it for the role: the billing engine's WAL is mostly page images (bench/README).
    @Test func theServiceRolesSessionsCompressTheirPageImagesInTheWAL() async throws {
        try await TestPostgres.withDatabase { database in
            try await database.withClient(database.appURL) { client in
                // "user": from the role's own settings, not the cluster's, which are left alone.
                let (setting, source) = try await client.query(
                    "SELECT setting, source FROM pg_settings WHERE name = 'wal_compression'", logger: logger
                ).collect().first!.decode((String, String).self)
                #expect(["lz4", "pglz"].contains(setting))
                #expect(source == "user")
            }
        }
    }

    @Test(arguments: [
        "ALTER TABLE users DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE users NO FORCE ROW LEVEL SECURITY",
        "DROP POLICY tenant_isolation ON users",
        "CREATE TABLE sneaky (id int)",
        "CREATE OR REPLACE FUNCTION talktime_platform_scope() RETURNS boolean LANGUAGE sql AS $$ SELECT true $$",
    ])
    func theServiceRoleCannotLoosenIsolation(statement: String) async throws {
        try await TestPostgres.withDatabase { database in
            try await database.withClient(database.appURL) { client in
                await #expect(throws: PSQLError.self) {
                    try await client.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
            }
        }
    }

    @Test func turningRowSecurityOffMakesQueriesFailRatherThanSeeEverything() async throws {
        try await TestPostgres.withDatabase { database in
            try await database.withClient(database.appURL, maximumConnections: 1) { client in
                try await client.withConnection { connection in
                    try await connection.query("SET row_security = off", logger: logger)
                    await #expect(throws: PSQLError.self) {
                        try await connection.query("SELECT count(*) FROM users", logger: logger)
                    }
                }
            }
        }
    }
}
