import Hummingbird
import HummingbirdTesting

extension ApplicationProtocol {
    /// `test(_:_:)`, except that a test that throws is reported only once the application has shut down in order.
    ///
    /// When the test closure throws, HummingbirdTesting cancels the application's services all at once: the database
    /// client stops while a query of the billing engine is in flight, that query never returns, and the test process
    /// hangs (it traps SIGTERM too) instead of failing. Handing the error back as a value lets the graceful shutdown
    /// run first, services in reverse order, as in production; the error is thrown after it.
    func testShuttingDownInOrder<Value: Sendable>(
        _ setup: TestingSetup, _ test: @escaping @Sendable (any TestClientProtocol) async throws -> Value
    ) async throws -> Value {
        let outcome: Result<Value, any Error> = try await self.test(setup) { client in
            do {
                return .success(try await test(client))
            } catch {
                return .failure(error)
            }
        }
        return try outcome.get()
    }
}
