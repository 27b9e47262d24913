import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import TalktimeCore
import TalktimeTestSupport
import Testing

@testable import Talktime

/// The assembled application, as `serve` builds it, against a real PostgreSQL.
@Suite struct ApplicationTests {
    @Test func answersLivenessReadinessAndMetrics() async throws {
        try await TestPostgres.withDatabase { database in
            let app = try await buildApplication(configuration: try makeConfiguration(database: database), logger: TestPostgres.logger)
            try await app.testShuttingDownInOrder(.router) { client in
                try await client.execute(uri: "/healthz", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body) == #"{"status":"ok"}"#)
                }
                try await client.execute(uri: "/readyz", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body) == #"{"status":"ready"}"#)
                }
                try await client.execute(uri: "/metrics", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                    let text = String(buffer: response.body)
                    #expect(text.contains(#"http_requests_total{route="/readyz",method="GET",status="200"} 1"#))
                    #expect(text.contains(#"http_request_duration_seconds_count{route="/healthz",method="GET",status="200"} 1"#))
                    #expect(text.contains("talktime_db_pool_connections_max 20"))
                    #expect(text.contains("talktime_db_pool_connections_in_use"))
                    #expect(text.contains("talktime_db_pool_wait_seconds_count"))
                }
            }
        }
    }

    @Test func isNotReadyOnceTheSchemaStopsBeingCurrent() async throws {
        try await TestPostgres.withDatabase { database in
            let app = try await buildApplication(configuration: try makeConfiguration(database: database), logger: TestPostgres.logger)
            try await app.testShuttingDownInOrder(.router) { client in
                try await client.execute(uri: "/readyz", method: .get) { response in
                    #expect(response.status == .ok)
                }
                // A newer build migrated the database under us.
                try await database.withClient(database.ownerURL) { owner in
                    try await owner.query(
                        "INSERT INTO talktime_schema_migrations (version, name, checksum) VALUES (9999, 'from_the_future', 'x')",
                        logger: TestPostgres.logger)
                }
                try await client.execute(uri: "/readyz", method: .get) { response in
                    #expect(response.status == .serviceUnavailable)
                    #expect(response.headers[.retryAfter] != nil)
                    #expect(response.headers[.contentType] == "application/problem+json")
                    #expect(String(buffer: response.body).contains("schema is not the one this build expects"))
                }
                // Liveness does not depend on the database.
                try await client.execute(uri: "/healthz", method: .get) { response in
                    #expect(response.status == .ok)
                }
            }
        }
    }

    @Test func isNotReadyWhenTheDatabaseIsUnreachable() async throws {
        // Nothing listens on port 1.
        let components = try await AppComponents(configuration: try makeConfiguration(), logger: TestPostgres.logger)
        let health = HealthEndpoints(
            database: components.database, migrator: components.migrator, metrics: components.metricsRegistry, readinessTimeout: .seconds(2))
        try await components.client.whileRunning {
            let problem = await #expect(throws: Problem.self) { try await health.readiness(logger: TestPostgres.logger) }
            #expect(problem?.status == .serviceUnavailable)
            #expect(problem?.detail == "The database is unreachable.")
        }
    }

    @Test func servesOverARealSocket() async throws {
        try await TestPostgres.withDatabase { database in
            let app = try await buildApplication(configuration: try makeConfiguration(database: database), logger: TestPostgres.logger)
            try await app.testShuttingDownInOrder(.live) { client in
                try await client.execute(uri: "/readyz", method: .get, headers: [.requestID: "live-1"]) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.requestID] == "live-1")
                }
                let oversized = ByteBuffer(repeating: UInt8(ascii: "x"), count: 2_000_000)
                try await client.execute(uri: "/healthz", method: .post, body: oversized) { response in
                    #expect(response.status == .contentTooLarge)
                }
            }
        }
    }
}
