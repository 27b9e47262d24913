import PostgresNIO

extension PostgresClient {
    /// Runs `body` while the client's connection pool runs, then shuts the pool down. For commands and tests
    /// that use the database outside the application's service group.
    @discardableResult
    public func whileRunning<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        try await withThrowingTaskGroup(of: Void.self, returning: Result.self) { group in
            group.addTask { await self.run() }
            defer { group.cancelAll() }
            // Queries made before run() has begun wait for it anyway; this pause only spares the log the pool's
            // "run() hasn't been called yet" warning.
            try await Task.sleep(for: .milliseconds(20))
            return try await body()
        }
    }
}
