import Foundation
import Logging
import TalktimeCore
import TalktimeTestSupport

/// Issue 5's engine benchmark: many active calls all due at once, charged by the billing engine (batches of
/// calls claimed `FOR UPDATE SKIP LOCKED`, one batch posting and one update per batch).
enum BillingBench {
    static let logger = LedgerBench.logger

    /// Creates the Licensee `slug` with `calls` active calls, each caller funded for far more increments than
    /// the runs will charge, every call due now.
    static func setUp(url: String, slug: String, calls: Int) async throws {
        try await LedgerBench.withDatabase(url: url, connections: 2) { database in
            _ = try await ActiveCallsFixture.create(
                in: database, count: calls, balance: 1_000_000_000, start: Date(), slug: slug, logger: logger)
        }
    }

    /// Runs `engines` billing engines at once, each charging up to `concurrency` batches at once, until no call is
    /// due, and prints the increments charged per second and how many there were. The calls must all be due (the
    /// script makes them so before each run).
    static func chargeDue(url: String, engines: Int, batchSize: Int, concurrency: Int) async throws {
        try await LedgerBench.withDatabase(url: url, connections: engines * concurrency + 1) { database in
            var settings = CallSettings()
            settings.billingBatchSize = batchSize
            settings.billingConcurrency = concurrency
            settings.reconcileInterval = .seconds(365 * 86_400)
            // The clock stands at the start: only the increments due then are charged, however long that takes
            // (with 100,000 calls on a busy machine it can take longer than an increment, and the calls would come
            // due again).
            let calls = CallService(
                database: database, rooms: RecordingCallRooms(), credentials: SharedCallRoomCredentials(RecordingCallRooms.credentials),
                alerts: SilentAlerts(), clock: TestClock(Date()), settings: settings)
            let start = ContinuousClock.now
            let charged = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<engines {
                    group.addTask {
                        let engine = BillingEngine(calls: calls, logger: logger)
                        var total = 0
                        while true {
                            let round = try await engine.runRound()
                            total += round.charged
                            if round.charged == 0 { return total }
                        }
                    }
                }
                return try await group.reduce(0, +)
            }
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print(String(format: "%.1f %d %.3f", Double(charged) / seconds, charged, seconds))
        }
    }

    /// Nobody to ring: the benchmark's calls are already answered.
    struct SilentAlerts: IncomingCallAlerting {
        func announce(_ call: Call, callerName: String) {}
    }
}
