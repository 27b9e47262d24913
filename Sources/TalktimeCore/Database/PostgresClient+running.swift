import PostgresNIO

extension PostgresClient {
    /// Runs `body` while the client's connection pool runs, then shuts the pool down. For commands and tests
    /// that use the database outside the application's service group.
    public func whileRunning<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        try await withThrowingTaskGroup(of: Void.self, returning: Result.self) { group in
            group.addTask { await self.run() }
            defer { group.cancelAll() }
            return try await body()
        }
    }
}
