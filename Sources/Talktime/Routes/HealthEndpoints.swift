import Foundation
import Hummingbird
import Logging
import Prometheus
import TalktimeCore

/// Liveness, readiness and metrics: what load balancers and Prometheus ask.
struct HealthEndpoints: Sendable {
    let database: Database
    let migrator: Migrator
    let metrics: PrometheusCollectorRegistry
    /// How long readiness may wait for the database before answering 503.
    let readinessTimeout: Duration

    var endpoints: [Endpoint] {
        [
            Endpoint(.get, "/healthz") { _, _ in try .json(["status": "ok"]) },
            Endpoint(.get, "/readyz") { _, context in try await readiness(logger: context.logger) },
            Endpoint(.get, "/metrics") { _, _ in prometheusText() },
        ]
    }

    func readiness(logger: Logger) async throws -> Response {
        let status: MigrationStatus
        do {
            status = try await withTimeout(readinessTimeout) {
                try await database.ping(logger: logger)
                return try await migrator.status()
            }
        } catch {
            logger.warning("not ready: database unreachable", metadata: ProblemMiddleware.errorMetadata(error))
            throw Problem(status: .serviceUnavailable, detail: "The database is unreachable.", headers: [.retryAfter: "5"])
        }
        guard status.isCurrent else {
            logger.warning("not ready: schema not current", metadata: ["problems": "\(status.problems)"])
            throw Problem(status: .serviceUnavailable, detail: "The database schema is not the one this build expects.", headers: [.retryAfter: "30"])
        }
        return try .json(["status": "ready"])
    }

    func prometheusText() -> Response {
        var buffer: [UInt8] = []
        metrics.emit(into: &buffer)
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: buffer))
        )
    }
}

struct TimeoutError: Error {}

/// Runs `body`, or throws `TimeoutError` once `limit` has passed (cancelling `body`).
func withTimeout<Result: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> Result) async throws -> Result {
    try await withThrowingTaskGroup(of: Result.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimeoutError()
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
