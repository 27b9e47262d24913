import Foundation
import Logging
import PostgresNIO

/// The service's way into PostgreSQL: a `PostgresClient` plus pool metrics, and the one code path that runs
/// tenant-scoped work.
///
/// The client itself must be running (it is added to the application's services); until then queries wait.
public struct Database: Sendable {
    public let client: PostgresClient
    let poolMetrics: DatabasePoolMetrics

    public init(client: PostgresClient, poolMetrics: DatabasePoolMetrics) {
        self.client = client
        self.poolMetrics = poolMetrics
    }

    /// Runs `body` on a pooled connection outside any explicit transaction. Tenant tables show no rows here.
    @discardableResult
    public func withConnection<Result: Sendable>(
        logger: Logger,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let requested = ContinuousClock.now
        return try await client.withConnection { connection in
            poolMetrics.connectionLeased(waited: ContinuousClock.now - requested)
            defer { poolMetrics.connectionReturned() }
            return try await body(connection)
        }
    }

    /// Runs `body` in one transaction scoped to `scope`: the scope is set with `set_config(..., true)`, so it
    /// ends with the transaction and never leaks to the next user of the pooled connection.
    ///
    /// Errors thrown by `body` come out unwrapped, so callers catch their own domain errors.
    @discardableResult
    public func withTransaction<Result: Sendable>(
        _ scope: TenantScope,
        logger: Logger,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await withConnection(logger: logger) { connection in
            do {
                return try await connection.withTransaction(logger: logger) { transaction in
                    try await Self.apply(scope, on: transaction, logger: logger)
                    return try await body(transaction)
                }
            } catch let error as PostgresTransactionError {
                if let closureError = error.closureError { throw closureError }
                throw error
            }
        }
    }

    /// A cheap round trip: is the database reachable with our credentials?
    public func ping(logger: Logger) async throws {
        try await withConnection(logger: logger) { connection in
            try await connection.query("SELECT 1", logger: logger)
        }
    }

    static func apply(_ scope: TenantScope, on connection: PostgresConnection, logger: Logger) async throws {
        let licenseeID: String
        let platform: String
        switch scope {
        case .licensee(let id):
            licenseeID = id.uuidString.lowercased()
            platform = "off"
        case .platform:
            licenseeID = ""
            platform = "on"
        }
        try await connection.query(
            """
            SELECT set_config('talktime.licensee_id', \(licenseeID), true),
                   set_config('talktime.platform_scope', \(platform), true)
            """,
            logger: logger
        )
    }
}
