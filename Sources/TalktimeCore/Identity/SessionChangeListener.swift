import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// Listens on PostgreSQL's `talktime_sessions` channel (migration 0011) on a connection of its own and tells
/// the `SessionValidityCache` what changed. While it is not listening, the cache remembers nothing, so a lost
/// connection costs a database round trip a request, never a revoked token accepted.
public struct SessionChangeListener: Service {
    public static let channel = "talktime_sessions"
    /// The payload a listener sends itself to prove that notifications reach it; every listener ignores it.
    public static let probePrefix = "listening:"
    /// How the connection shows in `pg_stat_activity`.
    public static let applicationName = "talktime-sessions"

    let configuration: PostgresConnection.Configuration
    let cache: SessionValidityCache
    let logger: Logger
    let retryDelay: Duration

    public init(
        configuration: PostgresConnection.Configuration, cache: SessionValidityCache, logger: Logger, retryDelay: Duration = .seconds(1)
    ) {
        var configuration = configuration
        configuration.options.additionalStartupParameters.append(("application_name", Self.applicationName))
        self.configuration = configuration
        self.cache = cache
        self.logger = logger
        self.retryDelay = retryDelay
    }

    public func run() async throws {
        guard cache.lifetime > .zero else {
            // Nothing to listen for; a service that returns would stop the others with it.
            try? await gracefulShutdown()
            return
        }
        await cancelWhenGracefulShutdown {
            var connectionNumber = 0
            while !Task.isCancelled {
                connectionNumber += 1
                do {
                    try await listenOnce(connectionNumber: connectionNumber)
                } catch {
                    if Task.isCancelled { break }
                    // The error's text is PostgreSQL's or the network's, never a token or an account.
                    logger.warning("session change listener lost its connection; retrying", metadata: ["error": "\(String(reflecting: error))"])
                }
                try? await Task.sleep(for: retryDelay)
            }
        }
    }

    /// Listens until the connection ends; the cache is only ever on in here.
    func listenOnce(connectionNumber: Int) async throws {
        let connection = try await PostgresConnection.connect(configuration: configuration, id: connectionNumber, logger: logger)
        defer { cache.stoppedListening() }
        do {
            try await connection.listen(on: Self.channel) { notifications in
                // Remember nothing until a notification is seen to arrive: a proxy that does not pass them on
                // (PgBouncer in transaction mode, say) leaves the cache off rather than stale.
                let probe = Self.probePrefix + UUID().uuidString
                try await connection.query("SELECT pg_notify(\(Self.channel), \(probe))", logger: logger)
                var arrived = notifications.makeAsyncIterator()
                while let notification = try await arrived.next() {
                    cache.forget(notification: notification.payload[...])
                    if notification.payload == probe { break }
                }
                cache.startedListening()
                logger.info("session change listener is listening")
                while let notification = try await arrived.next() {
                    cache.forget(notification: notification.payload[...])
                }
            }
            try? await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
