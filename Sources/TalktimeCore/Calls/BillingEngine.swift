import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// Charges active calls increment by increment, ends the calls whose paid time ran out or whose ring timed out,
/// and closes their rooms. Runs in every instance at once: work is claimed with `FOR UPDATE SKIP LOCKED`.
///
/// Exactly once: increment `n` of a call is charged under the ledger key `call:<id>:<n>`, in the same database
/// transaction that records it on the call row. A crash rolls both back, so the next round charges it again;
/// a charge that was committed without its record (by a version that posted separately, or by hand) is found
/// as a replay and recorded without moving money twice.
public final class BillingEngine: Service, Sendable {
    /// What one round did.
    public struct Round: Sendable, Equatable {
        public var charged = 0
        public var unpaid = 0
        public var ended = 0
        public var missed = 0
        public var roomsClosed = 0
        public var reconciled = 0

        public init() {}
    }

    /// Test seams, called inside a batch's charging transaction.
    public struct Hooks: Sendable {
        /// Once the batch's calls are locked, before anything is posted (no account is locked yet).
        public var afterClaiming: @Sendable ([UUID]) async throws -> Void = { _ in }
        /// After the ledger posted and before the calls are recorded. Throwing there is a crash between the two.
        public var afterCharging: @Sendable ([UUID]) async throws -> Void = { _ in }

        public init() {}
    }

    let calls: CallService
    let hooks: Hooks
    let metrics: BillingMetrics
    let logger: Logger
    let startsAfter: StartSignal?

    /// - Parameter startsAfter: when given, `run` waits for it before the first round (the application opens it
    ///   once it has checked the schema).
    public init(
        calls: CallService, hooks: Hooks = Hooks(), metrics: BillingMetrics = .none, logger: Logger, startsAfter: StartSignal? = nil
    ) {
        self.calls = calls
        self.hooks = hooks
        self.metrics = metrics
        self.logger = logger
        self.startsAfter = startsAfter
    }

    var database: Database { calls.database }
    var clock: any WallClock { calls.clock }
    var settings: CallSettings { calls.settings }

    public func run() async throws {
        // A database that cannot say when work is due next (it is down, say) is asked again after one poll interval.
        await BackgroundRounds.run(
            startsAfter: startsAfter, clock: clock, logger: logger, failure: "a billing round failed; the next one retries it",
            round: { _ = try await runRound() },
            nextWake: { (try? await nextWake()) ?? clock.now().adding(settings.billingPollInterval) })
    }

    /// Runs every kind of work that is due now, charging in batches until no call is due, and records what it did
    /// in `metrics`.
    public func runRound() async throws -> Round {
        let start = ContinuousClock.now
        do {
            let round = try await runDueWork()
            metrics.record(round, took: ContinuousClock.now - start)
            return round
        } catch {
            metrics.recordFailure(took: ContinuousClock.now - start)
            throw error
        }
    }

    private func runDueWork() async throws -> Round {
        var round = Round()
        let now = clock.now()
        (round.charged, round.unpaid) = try await chargeAllDueCalls(now: now)
        let (ended, missed) = try await finishExpiredCalls(now: now)
        round.ended = ended.count
        round.missed = missed
        round.roomsClosed = try await closeOpenRooms(now: now)
        round.reconciled = try await reconcileRooms(now: now)
        return round
    }

    /// The earliest paid time or ring deadline, but no later than one poll interval from now. Rounds at least one
    /// poll interval apart are what lets every increment be charged within its lead (`billingLead` is one poll
    /// interval and a second). A call held while a party is missing is not charged, so its paid time is no reason
    /// to wake (it would be one at every instant until the party's absence is settled); its end, when an increment
    /// could not be paid before the hold (`ends_at`), still is.
    func nextWake() async throws -> Date {
        let now = clock.now()
        let latest = now.adding(settings.billingPollInterval)
        let next = try await database.withTransaction(.platform, logger: logger) { connection in
            try await connection.query(
                """
                SELECT least(
                    (SELECT q.due_at FROM call_billing_due q JOIN calls c ON c.id = q.call_id
                     WHERE c.party_missing_since IS NULL OR c.ends_at IS NOT NULL ORDER BY q.due_at LIMIT 1),
                    (SELECT min(ring_deadline) FROM calls WHERE status = 'ringing'))
                """, logger: logger
            ).collect().first?.decode(Date?.self)
        }
        guard let next else { return latest }
        return min(max(next, now), latest)
    }

    /// Charges every call due by `now`, batch after batch. The first batch is charged alone: most rounds find fewer
    /// calls than a batch. If it was full, `billingConcurrency` workers go on at once, each until a batch comes back
    /// short: the due list holds nothing more that no other worker has locked.
    private func chargeAllDueCalls(now: Date) async throws -> (charged: Int, unpaid: Int) {
        let first = try await chargeDueCalls(now: now)
        guard first.charged + first.unpaid == settings.billingBatchSize else { return first }
        return try await withThrowingTaskGroup(of: (charged: Int, unpaid: Int).self) { group in
            for _ in 0..<settings.billingConcurrency {
                group.addTask {
                    var total = (charged: 0, unpaid: 0)
                    while true {
                        let batch = try await self.chargeDueCalls(now: now)
                        total = (total.charged + batch.charged, total.unpaid + batch.unpaid)
                        if batch.charged + batch.unpaid < self.settings.billingBatchSize { return total }
                    }
                }
            }
            return try await group.reduce(into: first) { total, worker in
                total = (total.charged + worker.charged, total.unpaid + worker.unpaid)
            }
        }
    }

    /// Charges the next increment of up to one batch of due calls in one transaction: the calls are locked with
    /// `FOR UPDATE SKIP LOCKED` (another engine takes the others), charged with one batch posting, and recorded.
    /// An increment is due `billingLead` before it starts: it is paid in advance. A call that reconciliation found
    /// missing a party (`party_missing_since`) is held: nothing more is charged until the party is seen again.
    func chargeDueCalls(now: Date) async throws -> (charged: Int, unpaid: Int) {
        let dueBy = now.adding(settings.billingLead)
        return try await database.withTransaction(.platform, logger: logger) { connection in
            // Through a cursor, so that the planner plans for the first rows and walks the due list in order. As a
            // query with LIMIT it took the row-level-security filter for a rare one, expected fewer due calls
            // than a batch, and scanned and sorted every active call for each batch (~70 ms at 100,000 calls).
            // `c.paid_until` is checked as well as the list's `due_at`: a call another engine charged while this
            // one waited for its lock is read again at its latest version, and only that version's columns are
            // checked again, so it is skipped rather than charged an increment early.
            try await connection.query(
                """
                DECLARE due_calls NO SCROLL CURSOR FOR
                SELECT \(unescaped: CallRecords.columns(of: "c")) FROM call_billing_due q JOIN calls c ON c.id = q.call_id
                WHERE q.due_at <= \(dueBy) AND c.status = 'active' AND c.ends_at IS NULL AND c.paid_until <= \(dueBy)
                    AND c.party_missing_since IS NULL
                ORDER BY q.due_at
                FOR UPDATE OF c SKIP LOCKED
                """, logger: logger)
            var due: [Call] = []
            let rows = try await connection.query("FETCH \(unescaped: String(settings.billingBatchSize)) FROM due_calls", logger: logger)
            for try await row in rows { due.append(try CallRecords.decode(row)) }
            try await connection.query("CLOSE due_calls", logger: logger)
            guard !due.isEmpty else { return (0, 0) }
            try await hooks.afterClaiming(due.map(\.id))

            // One shard of the hot accounts for the whole batch: each is locked and written once.
            let spreadKey = UUID().uuidString
            let priced = due.filter { $0.price.incrementPrice > 0 }
            let postings = try priced.map { try $0.price.charge(increment: $0.billedIncrements + 1, of: $0.billingRef, spreadBy: spreadKey) }
            let outcomes = try await Ledger.postBatch(postings, on: connection, logger: logger)
            var paid = Set(due.filter { $0.price.incrementPrice == 0 }.map(\.id))
            for (call, outcome) in zip(priced, outcomes) where outcome != .insufficientFunds { paid.insert(call.id) }
            try await hooks.afterCharging(due.map(\.id))

            let ids = due.map(\.id)
            let isPaid = ids.map(paid.contains)
            try await connection.query(
                """
                UPDATE calls c SET
                    billed_increments = c.billed_increments + CASE WHEN u.paid THEN 1 ELSE 0 END,
                    billed_amount_minor = c.billed_amount_minor + CASE WHEN u.paid THEN c.increment_price_minor ELSE 0 END,
                    paid_until = CASE WHEN u.paid THEN c.paid_until + make_interval(secs => c.increment_seconds) ELSE c.paid_until END,
                    ends_at = CASE WHEN u.paid THEN NULL ELSE c.paid_until END
                FROM unnest(\(ids)::uuid[], \(isPaid)::boolean[]) AS u(id, paid)
                WHERE c.id = u.id
                """, logger: logger)
            return (paid.count, ids.count - paid.count)
        }
    }

    /// Ends active calls whose paid time is over and marks ringing calls past their deadline missed; then
    /// closes their rooms. Returns the calls ended for want of funds and the count of missed calls.
    func finishExpiredCalls(now: Date) async throws -> (ended: [Call], missed: Int) {
        let (ended, missed) = try await database.withTransaction(.platform, logger: logger) { connection in
            let unpaid = try await connection.query(
                """
                SELECT c.id FROM call_billing_due q JOIN calls c ON c.id = q.call_id
                WHERE q.due_at <= \(now) AND c.status = 'active' AND c.paid_until <= \(now) AND c.ends_at <= \(now)
                LIMIT \(settings.billingBatchSize) FOR UPDATE OF c SKIP LOCKED
                """, logger: logger
            ).collect().map { try $0.decode(UUID.self) }
            let ended = try await CallRecords.finish(unpaid, status: .ended, reason: .insufficientFunds, at: now, on: connection, logger: logger)
            let unanswered = try await connection.query(
                """
                SELECT id FROM calls WHERE status = 'ringing' AND ring_deadline <= \(now)
                LIMIT \(settings.billingBatchSize) FOR UPDATE SKIP LOCKED
                """, logger: logger
            ).collect().map { try $0.decode(UUID.self) }
            let missed = try await CallRecords.finish(unanswered, status: .missed, reason: .missed, at: now, on: connection, logger: logger)
            return (ended, missed)
        }
        for call in ended + missed { await calls.closeRoom(of: call, logger: logger) }
        return (ended, missed.count)
    }

    /// Closes the rooms of finished calls that an earlier attempt could not close.
    func closeOpenRooms(now: Date) async throws -> Int {
        let pending = try await database.withTransaction(.platform, logger: logger) { connection in
            try await connection.query(
                """
                SELECT \(unescaped: CallRecords.columns.sql) FROM calls
                WHERE room_closed_at IS NULL AND status NOT IN ('ringing', 'active') AND ended_at <= \(now.adding(.seconds(-10)))
                ORDER BY ended_at LIMIT 50
                """, logger: logger
            ).collect().map(CallRecords.decode)
        }
        for call in pending { await calls.closeRoom(of: call, logger: logger) }
        return pending.count
    }
}
