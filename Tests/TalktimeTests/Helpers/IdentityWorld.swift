import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import TalktimeCore
import TalktimeTestSupport
import Testing

@testable import Talktime

/// Two Licensees (`alpha`, `beta`) with an account of every role each, made through the real API: a platform
/// admin invites each Licensee admin, who invites an Advisor; an End User registers; the admin makes an API key.
struct IdentityWorld: Sendable {
    struct Tenant: Sendable {
        let slug: String
        let id: UUID
        let adminToken: String
        let advisorToken: String
        let endUserToken: String
        let endUserRefreshToken: String
        let endUserEmail: String
        let apiKey: String
    }

    static let password = "correct horse battery staple"

    let http: TestHTTP
    let database: TestDatabase
    let platformAdminToken: String
    let alpha: Tenant
    let beta: Tenant

    /// Runs `body` against a fresh database and the real application built from `overrides`.
    /// `.live` serves over a real socket from 127.0.0.1, for tests that need client addresses; `clock` is the
    /// application's clock (the system's unless a test moves time itself).
    static func run(
        _ overrides: [String: String] = [:], transport: TestingSetup = .router, clock: any WallClock = SystemWallClock(),
        test body: @escaping @Sendable (IdentityWorld) async throws -> Void
    ) async throws {
        try await TestPostgres.withDatabase { database in
            let licensees = try await seedLicensees(database)
            let configuration = try makeConfiguration(overrides, database: database)
            let app = try await buildApplication(configuration: configuration, logger: TestPostgres.logger, clock: clock)
            try await app.testShuttingDownInOrder(transport) { client in
                let http = TestHTTP(client: client)
                let world = try await make(http: http, database: database, licensees: licensees)
                try await body(world)
            }
        }
    }

    static func seedLicensees(_ database: TestDatabase) async throws -> [String: UUID] {
        try await database.withAppDatabase { db in
            let hasher = PasswordHasher(cost: 4, threads: 1, queueLimit: 4)
            _ = try await RegistrationService.createPlatformAdmin(
                email: "root@platform.example", password: password, displayName: "Root", database: db, hasher: hasher, logger: TestPostgres.logger)
            return try await db.withTransaction(.platform, logger: TestPostgres.logger) { connection in
                var ids: [String: UUID] = [:]
                for slug in ["alpha", "beta"] {
                    ids[slug] = try await connection.query(
                        """
                        INSERT INTO licensees (slug, name, app_name, currency, licence_status)
                        VALUES (\(slug), \(slug), \(slug), 'EUR', 'active') RETURNING id
                        """,
                        logger: TestPostgres.logger
                    ).collect().first!.decode(UUID.self)
                }
                return ids
            }
        }
    }

    static func make(http: TestHTTP, database: TestDatabase, licensees: [String: UUID]) async throws -> IdentityWorld {
        let root = try await http.send(.post, "/v1/auth/login", json: ["email": "root@platform.example", "password": password])
        let rootToken = try #require(root.string("access_token"), "platform admin login: \(root.text)")
        var tenants: [Tenant] = []
        for slug in ["alpha", "beta"] {
            let id = licensees[slug]!
            let invitation = try await http.send(
                .post, "/v1/admin/invitations", json: ["email": "admin@\(slug).example", "role": "licensee_admin", "licensee_id": id.uuidString],
                token: rootToken)
            let adminToken = try await accept(invitation, displayName: "\(slug) admin", http: http)
            let advisorInvitation = try await http.send(
                .post, "/v1/admin/invitations", json: ["email": "advisor@\(slug).example", "role": "advisor"], token: adminToken)
            let advisorToken = try await accept(advisorInvitation, displayName: "\(slug) advisor", http: http)
            let email = "user@\(slug).example"
            let registered = try await http.send(
                .post, "/v1/auth/register", json: ["email": email, "password": password, "display_name": "\(slug) user"], licensee: slug)
            #expect(registered.status == .created, "register: \(registered.text)")
            let key = try await http.send(
                .post, "/v1/admin/api-keys", json: ["name": "crm", "scopes": APIKeyScope.allCases.map(\.rawValue)], token: adminToken)
            tenants.append(
                Tenant(
                    slug: slug, id: id, adminToken: adminToken, advisorToken: advisorToken,
                    endUserToken: try #require(registered.string("access_token")),
                    endUserRefreshToken: try #require(registered.string("refresh_token")), endUserEmail: email,
                    apiKey: try #require(key.string("key"), "api key: \(key.text)")))
        }
        return IdentityWorld(http: http, database: database, platformAdminToken: rootToken, alpha: tenants[0], beta: tenants[1])
    }

    static func accept(_ invitation: TestHTTP.Reply, displayName: String, http: TestHTTP) async throws -> String {
        #expect(invitation.status == .created, "invitation: \(invitation.text)")
        let token = try #require(invitation.string("token"))
        let accepted = try await http.send(
            .post, "/v1/auth/invitations/accept", json: ["token": token, "password": password, "display_name": displayName])
        #expect(accepted.status == .created, "accept: \(accepted.text)")
        return try #require(accepted.string("access_token"))
    }

    /// A fresh session's access token. Each login comes from its own (documentation-range) client address, which
    /// counts when the world runs `.live` with the test trusted as a proxy.
    func logIn(_ email: String, licensee: String?) async throws -> String {
        let address = "203.0.113.\(Int.random(in: 1...254))"
        let reply = try await http.send(
            .post, "/v1/auth/login", json: ["email": email, "password": Self.password], licensee: licensee, headers: [.xForwardedFor: address])
        return try #require(reply.string("access_token"), "login \(email): \(reply.text)")
    }

    /// The account id behind an access token.
    func id(of token: String) async throws -> UUID {
        let me = try await http.send(.get, "/v1/me", token: token)
        return try #require(me.string("id").flatMap(UUID.init(uuidString:)), "me: \(me.text)")
    }

    /// Runs SQL as the superuser, for looking at (or aging) what the service stored.
    func superuser(_ sql: String) async throws -> [PostgresRow] {
        try await database.withClient(database.superuserURL, maximumConnections: 1) { client in
            try await client.query(PostgresQuery(unsafeSQL: sql), logger: TestPostgres.logger).collect()
        }
    }
}
