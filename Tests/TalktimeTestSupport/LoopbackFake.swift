import Hummingbird
import Logging
import Synchronization

/// Runs a fake outside service's router on 127.0.0.1, on a free port, for as long as a test needs it.
enum LoopbackFake {
    struct DidNotStart: Error {}

    /// Where the server reports its port, from its own task.
    private final class BoundPort: Sendable {
        let value = Mutex<Int?>(nil)
    }

    /// Starts `router`, hands its port to `body`, and stops the server when `body` returns or throws.
    static func run<Result: Sendable>(
        _ router: Router<BasicRequestContext>, name: String, _ body: @Sendable (_ port: Int) async throws -> Result
    ) async throws -> Result {
        let port = BoundPort()
        var logger = Logger(label: name)
        logger.logLevel = .critical
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: name),
            onServerRunning: { channel in port.value.withLock { $0 = channel.localAddress?.port } },
            logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            var bound: Int?
            for _ in 0..<500 {
                bound = port.value.withLock { $0 }
                if bound != nil { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            guard let bound else {
                group.cancelAll()
                throw DidNotStart()
            }
            defer { group.cancelAll() }
            return try await body(bound)
        }
    }
}
