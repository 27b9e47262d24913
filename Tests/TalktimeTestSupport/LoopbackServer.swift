import Hummingbird
import Logging
import Synchronization

/// Runs a fake outside service (Stripe, LiveKit, FCM, APNs) as a Hummingbird app on 127.0.0.1 at a free port
/// for the length of a test body, then stops it.
public enum LoopbackServer {
    struct DidNotStart: Error {}

    /// Serves `router` while `body` runs; `body` is given the port.
    public static func run<Result: Sendable>(
        _ router: Router<BasicRequestContext>, name: String, _ body: @Sendable (_ port: Int) async throws -> Result
    ) async throws -> Result {
        let port = Mutex<Int?>(nil)
        var logger = Logger(label: name)
        logger.logLevel = .critical
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: name),
            onServerRunning: { channel in port.withLock { $0 = channel.localAddress?.port } },
            logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            var bound: Int?
            for _ in 0..<500 {
                bound = port.withLock { $0 }
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
