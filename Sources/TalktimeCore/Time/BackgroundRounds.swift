import Foundation
import Logging
import ServiceLifecycle

/// The loop of a background service that works in rounds (the billing engine, the retention service).
///
/// - It starts only once `startsAfter` opens: a service that refuses to start (its schema is not current) stops
///   the database client at once, and a query sent to a stopped client would wait forever.
/// - A failed round is logged and the next one retries it: a database that is down never stops the service.
/// - A round in progress is finished before shutdown; only the wait between rounds is cut short.
enum BackgroundRounds {
    /// Runs `round` until graceful shutdown, sleeping on `clock` until the moment `nextWake` names.
    static func run(
        startsAfter: StartSignal?, clock: any WallClock, logger: Logger, failure: Logger.Message,
        round: () async throws -> Void, nextWake: () async -> Date
    ) async {
        do {
            try await cancelWhenGracefulShutdown { try await startsAfter?.wait() }
        } catch {
            return
        }
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                try await round()
            } catch {
                logger.error(failure, metadata: ["error": "\(error)"])
            }
            let wake = await nextWake()
            try? await cancelWhenGracefulShutdown { try await clock.sleep(until: wake) }
        }
    }
}
