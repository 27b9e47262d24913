import Foundation
import Logging
import MetricsTestKit
import PostgresNIO
import Synchronization
import TalktimeTestSupport
import Testing

@testable import TalktimeCore

/// The billing engine against a real PostgreSQL on a test clock: exactly once under crashes and several engines.
@Suite struct BillingEngineTests {
    let logger = TestPostgres.logger

    @Test func anEngineKilledBetweenChargingAndRecordingChargesNothingTwiceAndSkipsNothing() async throws {
        try await withDatabaseAndClock { database, clock in
            let fixture = try await ActiveCallsFixture.create(in: database, count: 20, balance: 10_000, start: clock.now())
            let calls = CallService.forTests(database: database, clock: clock)

            // The first engine dies after its ledger batch, before it records the charges on the calls.
            var hooks = BillingEngine.Hooks()
            hooks.afterCharging = { _ in throw EngineKilled() }
            let metrics = TestMetrics()
            let doomed = BillingEngine(calls: calls, hooks: hooks, metrics: BillingMetrics(factory: metrics), logger: logger)
            await #expect(throws: EngineKilled.self) { try await doomed.runRound() }
            #expect(try await chargeCount(database) == 0)
            // A round that fails counts as failed, and nothing it rolled back counts as charged.
            #expect(metrics.counterTotal(label: "talktime_billing_rounds_total", dimensions: [("result", "failed")]) == 1)
            #expect(metrics.counterTotal(label: "talktime_billing_increments_total") == 0)

            // A charge that reached the ledger without its record (as a process dying between two commits
            // would leave it): the restarted engine finds it as a replay and does not post it again.
            let first = fixture.callIDs[0]
            let price = CallPrice(
                currency: "EUR", ratePerMinute: 120, incrementSeconds: 60, commissionBasisPoints: 2000, platformFeeBasisPoints: 1000)
            let orphan = try price.charge(
                increment: 1,
                of: CallBillingRef(id: first, licenseeID: fixture.licenseeID, callerID: fixture.callerIDs[0], advisorID: fixture.advisorIDs[0]))
            _ = try await Ledger(database: database).post(orphan, logger: logger)

            let restarted = BillingEngine(calls: calls, logger: logger)
            for _ in 0..<3 {
                _ = try await restarted.runRound()
                clock.advance(by: .seconds(60))
            }
            #expect(try await chargeCount(database) == 20 * 3)
            for (index, caller) in fixture.callerIDs.enumerated() {
                #expect(
                    try await walletBalance(caller, fixture: fixture, database: database) == 10_000 - 3 * fixture.incrementPrice,
                    "caller \(index)")
            }
            let billed = try await billedIncrements(database)
            #expect(billed == Array(repeating: 3, count: 20))
            #expect(try await callsOffTheDueList(database) == 0)
            #expect(try await LedgerVerifier(database: database).verify(logger: logger).isHealthy)
        }
    }

    @Test func threeEnginesChargeEveryIncrementOfAThousandCallsExactlyOnce() async throws {
        try await withDatabaseAndClock { database, clock in
            let count = 1_000
            let increments = 3
            let fixture = try await ActiveCallsFixture.create(in: database, count: count, balance: 1_000_000, start: clock.now())
            var settings = CallSettings.withoutReconciliation
            settings.billingBatchSize = 100
            let engines = (0..<3).map { _ in
                BillingEngine(calls: CallService.forTests(database: database, clock: clock, settings: settings), logger: logger)
            }
            for _ in 0..<increments {
                let rounds = try await withThrowingTaskGroup(of: BillingEngine.Round.self) { group in
                    for engine in engines { group.addTask { try await engine.runRound() } }
                    return try await group.reduce(into: [BillingEngine.Round]()) { $0.append($1) }
                }
                #expect(rounds.map(\.charged).reduce(0, +) == count)
                clock.advance(by: .seconds(60))
            }
            #expect(try await chargeCount(database) == count * increments)
            // Every (call, increment) key once, and nothing else.
            let keys = try await database.withTransaction(.platform, logger: logger) { connection in
                try await connection.query(
                    "SELECT count(DISTINCT idempotency_key)::int8 FROM ledger_transactions WHERE kind = 'call_charge'", logger: logger
                ).collect().first!.decode(Int64.self)
            }
            #expect(keys == Int64(count * increments))
            #expect(Set(try await billedIncrements(database)) == [increments])
            #expect(try await callsOffTheDueList(database) == 0)
            let spent = try await database.withTransaction(.platform, logger: logger) { connection in
                try await connection.query(
                    "SELECT sum(1000000 - balance)::int8 FROM ledger_accounts WHERE kind = 'wallet'", logger: logger
                ).collect().first!.decode(Int64.self)
            }
            #expect(spent == Int64(count * increments) * fixture.incrementPrice)
            #expect(try await LedgerVerifier(database: database).verify(logger: logger).isHealthy)
        }
    }

    @Test func oneEngineChargesSeveralBatchesAtOnceWhenManyAreDue() async throws {
        try await withDatabaseAndClock { database, clock in
            let count = 1_000
            let fixture = try await ActiveCallsFixture.create(in: database, count: count, balance: 1_000_000, start: clock.now())
            var settings = CallSettings.withoutReconciliation
            settings.billingBatchSize = 50
            settings.billingConcurrency = 3
            // Batches in flight: open charging transactions that hold their claimed calls, from the claim to the
            // calls' record. A worker's batch waits after its claim (until a deadline) for the other two to arrive, so
            // that a busy machine running one worker late does not hide that they run at once. It waits there, not
            // after posting, because a posted batch holds its shard of the hot accounts, which another worker's
            // batch may need. The round's first batch is charged alone, by design, and does not wait.
            let inFlight = Mutex((now: 0, most: 0, batches: 0))
            let giveUp = ContinuousClock.now + .seconds(30)
            var hooks = BillingEngine.Hooks()
            hooks.afterClaiming = { _ in
                let ordinal = inFlight.withLock {
                    $0.now += 1
                    $0.most = max($0.most, $0.now)
                    $0.batches += 1
                    return $0.batches
                }
                while ordinal > 1, inFlight.withLock({ $0.most < 3 }), ContinuousClock.now < giveUp {
                    try await Task.sleep(for: .milliseconds(5))
                }
            }
            hooks.afterCharging = { _ in inFlight.withLock { $0.now -= 1 } }
            let engine = BillingEngine(
                calls: CallService.forTests(database: database, clock: clock, settings: settings), hooks: hooks, logger: logger)
            for increment in 1...2 {
                let round = try await engine.runRound()
                #expect(round.charged == count, "increment \(increment)")
                clock.advance(by: .seconds(60))
            }
            let seen = inFlight.withLock { $0 }
            #expect(seen.most == 3)
            // 1,000 calls a round in batches of 50: 20 full ones at most, and at most one short one per worker (a
            // worker stops at its first).
            #expect((40...46).contains(seen.batches))
            #expect(try await chargeCount(database) == count * 2)
            #expect(Set(try await billedIncrements(database)) == [2])
            #expect(try await callsOffTheDueList(database) == 0)
            let spent = try await database.withTransaction(.platform, logger: logger) { connection in
                try await connection.query(
                    "SELECT sum(1000000 - balance)::int8 FROM ledger_accounts WHERE kind = 'wallet'", logger: logger
                ).collect().first!.decode(Int64.self)
            }
            #expect(spent == Int64(count * 2) * fixture.incrementPrice)
            #expect(try await LedgerVerifier(database: database).verify(logger: logger).isHealthy)
        }
    }

    @Test func eachIncrementIsChargedJustBeforeItStarts() async throws {
        try await withDatabaseAndClock { database, clock in
            let start = clock.now()
            let fixture = try await ActiveCallsFixture.create(in: database, count: 1, balance: 1_000, start: start)
            let engine = BillingEngine(calls: CallService.forTests(database: database, clock: clock), logger: logger)
            _ = try await engine.runRound()
            #expect(try await billedIncrements(database) == [1])
            // The second increment starts at 60 s. Three seconds before, it is not due yet; with a poll interval
            // of 1 s it is charged from 2 s before.
            clock.advance(by: .seconds(57))
            #expect(try await engine.runRound().charged == 0)
            clock.advance(by: .milliseconds(1_500))
            #expect(try await engine.runRound().charged == 1)
            let call = try #require(try await find(fixture.callIDs[0], database: database))
            #expect(call.billedIncrements == 2)
            #expect(call.paidUntil == start.addingTimeInterval(120))
            #expect(try await engine.nextWake() <= start.addingTimeInterval(58.5 + 1))
        }
    }

    @Test func aCallThatCannotPayItsNextIncrementEndsWhenItsPaidTimeRunsOut() async throws {
        try await withDatabaseAndClock { database, clock in
            let start = clock.now()
            // 250 pays two increments of 120, not a third.
            let fixture = try await ActiveCallsFixture.create(in: database, count: 1, balance: 250, start: start)
            let rooms = RecordingCallRooms()
            let calls = CallService.forTests(database: database, clock: clock, rooms: rooms)
            let metrics = TestMetrics()
            let engine = BillingEngine(calls: calls, metrics: BillingMetrics(factory: metrics), logger: logger)
            _ = try await engine.runRound()
            clock.advance(by: .seconds(60))
            _ = try await engine.runRound()
            clock.advance(by: .seconds(60))
            let unpaid = try await engine.runRound()
            #expect(unpaid.unpaid == 1)
            #expect(unpaid.ended == 1)
            let call = try #require(try await find(fixture.callIDs[0], database: database))
            #expect(call.status == .ended)
            #expect(call.endReason == .insufficientFunds)
            #expect(call.billedIncrements == 2)
            #expect(call.billedAmount == 240)
            #expect(call.endedAt == start.addingTimeInterval(120))
            #expect(rooms.deletedRooms == [call.roomName])
            // The ended call left the engine's due list.
            #expect(try await callsOffTheDueList(database) == 0)
            #expect(try await dueListCount(database) == 0)
            #expect(try await presence(of: fixture.advisorIDs[0], database: database) == "available")
            #expect(try await walletBalance(fixture.callerIDs[0], fixture: fixture, database: database) == 10)
            #expect(try await LedgerVerifier(database: database).verify(logger: logger).isHealthy)
            #expect(metrics.counterTotal(label: "talktime_billing_increments_total", dimensions: [("result", "charged")]) == 2)
            #expect(metrics.counterTotal(label: "talktime_billing_increments_total", dimensions: [("result", "unpaid")]) == 1)
            #expect(
                metrics.counterTotal(label: "talktime_billing_calls_finished_total", dimensions: [("reason", "insufficient_funds")]) == 1)
        }
    }

    @Test func reconciliationEndsTheCallsThatLostRoomEventsWouldHaveEnded() async throws {
        try await withDatabaseAndClock { database, clock in
            let start = clock.now()
            let fixture = try await ActiveCallsFixture.create(in: database, count: 4, balance: 10_000, start: start)
            let rooms = RecordingCallRooms()
            let metrics = TestMetrics()
            let engine = BillingEngine(
                calls: CallService.forTests(database: database, clock: clock, rooms: rooms, settings: CallSettings()),
                metrics: BillingMetrics(factory: metrics), logger: logger)
            var calls: [Call] = []
            for id in fixture.callIDs { calls.append(try #require(try await find(id, database: database))) }
            // Who each room holds at the next check: both parties; one party at a time (reconnects); the caller
            // alone, twice (the Advisor left and the event was lost); nobody.
            func enter(_ parties: [KeyPath<Call, UUID>], _ n: Int) {
                rooms.setParticipants(parties.map { Call.roomIdentity(of: calls[n][keyPath: $0]) }, inRoom: calls[n].roomName)
            }
            enter([\.callerID, \.advisorID], 0)
            enter([\.callerID], 1)
            enter([\.callerID], 2)
            enter([], 3)
            #expect(try await engine.runRound().reconciled == 0)  // answered less than an interval ago

            clock.advance(by: .seconds(61))
            #expect(try await engine.runRound().reconciled == 1)
            #expect(try await find(calls[3].id, database: database)?.endReason == .roomEmpty)

            enter([\.callerID, \.advisorID], 1)
            clock.advance(by: .seconds(61))
            #expect(try await engine.runRound().reconciled == 1)
            let left = try #require(try await find(calls[2].id, database: database))
            #expect(left.status == .ended && left.endReason == .participantLeft)
            #expect(left.endedAt == start.addingTimeInterval(122))

            // A party missing once, after being back, is a new absence: it is only noted.
            enter([\.advisorID], 1)
            clock.advance(by: .seconds(61))
            #expect(try await engine.runRound().reconciled == 0)
            #expect(try await find(calls[0].id, database: database)?.status == .active)
            #expect(try await find(calls[1].id, database: database)?.status == .active)
            clock.advance(by: .seconds(61))
            #expect(try await engine.runRound().reconciled == 1)
            #expect(try await find(calls[1].id, database: database)?.endReason == .participantLeft)
            #expect(try await find(calls[0].id, database: database)?.status == .active)

            #expect(Set(rooms.deletedRooms) == Set([calls[1].roomName, calls[2].roomName, calls[3].roomName]))
            // What an operator's dashboard sees of it: five rounds, three calls ended by reconciliation.
            #expect(metrics.counterTotal(label: "talktime_billing_calls_finished_total", dimensions: [("reason", "reconciled")]) == 3)
            #expect(metrics.counterTotal(label: "talktime_billing_rounds_total", dimensions: [("result", "completed")]) == 5)
            #expect(metrics.counterTotal(label: "talktime_billing_rounds_total", dimensions: [("result", "failed")]) == 0)
            #expect(try metrics.expectTimer("talktime_billing_round_seconds").values.count == 5)
            #expect(try await presence(of: fixture.advisorIDs[2], database: database) == "available")
            #expect(try await LedgerVerifier(database: database).verify(logger: logger).isHealthy)
        }
    }

    @Test func aCallMissingAPartyIsChargedNothingMoreAndCheckedAgainAfterTheGrace() async throws {
        try await withDatabaseAndClock { database, clock in
            let start = clock.now()
            let fixture = try await ActiveCallsFixture.create(in: database, count: 2, balance: 10_000, start: start)
            let rooms = RecordingCallRooms()
            let settings = CallSettings()
            let engine = BillingEngine(
                calls: CallService.forTests(database: database, clock: clock, rooms: rooms, settings: settings), logger: logger)
            let gone = try #require(try await find(fixture.callIDs[0], database: database))
            let back = try #require(try await find(fixture.callIDs[1], database: database))
            rooms.setParticipants([Call.roomIdentity(of: gone.callerID)], inRoom: gone.roomName)
            rooms.setParticipants([Call.roomIdentity(of: back.callerID)], inRoom: back.roomName)
            #expect(try await engine.runRound().charged == 2)  // the first increments: paid until 60 s

            // 110 s: the second increments are charged, then both rooms are found without their Advisor.
            clock.advance(by: .seconds(110))
            let found = try await engine.runRound()
            #expect(found.charged == 2 && found.reconciled == 0)

            // 121 s: the third increments (from 120 s) are due but held, and are no reason to wake at once.
            clock.advance(by: .seconds(11))
            #expect(try await engine.runRound().charged == 0)
            #expect(try await engine.nextWake() == clock.now().adding(settings.billingPollInterval))

            // 130 s, the grace over: one Advisor is back, the other is not. The call without its Advisor ends
            // having paid for the time until 120 s only; the other's held increment is charged, for the same
            // time it would have covered.
            rooms.setParticipants([gone.callerID, back.callerID, back.advisorID].map(Call.roomIdentity(of:)), inRoom: back.roomName)
            clock.advance(by: .seconds(9))
            #expect(try await engine.runRound().reconciled == 1)
            #expect(try await engine.runRound().charged == 1)

            let ended = try #require(try await find(gone.id, database: database))
            #expect(ended.status == .ended && ended.endReason == .participantLeft)
            #expect(ended.endedAt == start.addingTimeInterval(130))
            #expect(ended.billedIncrements == 2)
            let resumed = try #require(try await find(back.id, database: database))
            #expect(resumed.status == .active && resumed.billedIncrements == 3)
            #expect(resumed.paidUntil == start.addingTimeInterval(180))
            #expect(rooms.deletedRooms == [gone.roomName])
            #expect(try await walletBalance(gone.callerID, fixture: fixture, database: database) == 10_000 - 2 * fixture.incrementPrice)
            #expect(try await walletBalance(back.callerID, fixture: fixture, database: database) == 10_000 - 3 * fixture.incrementPrice)
            #expect(try await LedgerVerifier(database: database).verify(logger: logger).isHealthy)
        }
    }

    @Test func aHeldCallThatCouldNotPayItsNextIncrementStillEndsWhenItsPaidTimeRunsOut() async throws {
        try await withDatabaseAndClock { database, clock in
            let start = clock.now()
            // 250 pays two increments of 120, not a third.
            let fixture = try await ActiveCallsFixture.create(in: database, count: 1, balance: 250, start: start)
            let rooms = RecordingCallRooms()
            let engine = BillingEngine(
                calls: CallService.forTests(database: database, clock: clock, rooms: rooms, settings: CallSettings()), logger: logger)
            let call = try #require(try await find(fixture.callIDs[0], database: database))
            rooms.setParticipants([Call.roomIdentity(of: call.callerID)], inRoom: call.roomName)
            _ = try await engine.runRound()
            clock.advance(by: .seconds(59))
            #expect(try await engine.runRound().charged == 1)  // paid until 120 s

            // 118.5 s: the third increment cannot be paid, so the call is to end at 120 s; then the room is
            // found without its Advisor, and the call is held.
            clock.advance(by: .milliseconds(59_500))
            let found = try await engine.runRound()
            #expect(found.unpaid == 1 && found.ended == 0)
            #expect(try #require(try await find(call.id, database: database)).endsAt == start.addingTimeInterval(120))
            #expect(try await partyMissingSince(call.id, database: database) == clock.now())

            // The hold does not delay the end: the engine wakes for it, and ends the call on time.
            clock.advance(by: .seconds(1))
            #expect(try await engine.nextWake() == start.addingTimeInterval(120))
            clock.advance(by: .milliseconds(500))
            #expect(try await engine.runRound().ended == 1)
            let ended = try #require(try await find(call.id, database: database))
            #expect(ended.status == .ended && ended.endReason == .insufficientFunds)
            #expect(ended.endedAt == start.addingTimeInterval(120) && ended.billedAmount == 240)
            #expect(rooms.deletedRooms == [call.roomName])
            #expect(try await LedgerVerifier(database: database).verify(logger: logger).isHealthy)
        }
    }

    @Test func aCheckOfARoomThatFailedIsTriedAgainSoonNotAnIntervalLater() async throws {
        try await withDatabaseAndClock { database, clock in
            let start = clock.now()
            let fixture = try await ActiveCallsFixture.create(in: database, count: 1, balance: 10_000, start: start)
            let rooms = RecordingCallRooms()
            let settings = CallSettings()
            #expect(settings.reconcileRetry == .seconds(5))
            let engine = BillingEngine(
                calls: CallService.forTests(database: database, clock: clock, rooms: rooms, settings: settings), logger: logger)
            let call = try #require(try await find(fixture.callIDs[0], database: database))
            rooms.setParticipants([Call.roomIdentity(of: call.callerID)], inRoom: call.roomName)
            _ = try await engine.runRound()

            // 61 s: the first check cannot reach the media service. It is tried again 5 s later, and then finds
            // the Advisor gone.
            clock.advance(by: .seconds(61))
            rooms.failNextRequests(1)
            #expect(try await engine.runRound().charged == 1)  // paid until 120 s
            #expect(try await partyMissingSince(call.id, database: database) == nil)
            clock.advance(by: .seconds(5))
            _ = try await engine.runRound()
            #expect(try await partyMissingSince(call.id, database: database) == start.addingTimeInterval(66))

            // 86 s, the grace over: the check fails again and keeps what the last one found; 5 s later the
            // Advisor is still gone and the call ends.
            clock.advance(by: .seconds(20))
            rooms.failNextRequests(1)
            #expect(try await engine.runRound().reconciled == 0)
            #expect(try await partyMissingSince(call.id, database: database) == start.addingTimeInterval(66))
            clock.advance(by: .seconds(5))
            #expect(try await engine.runRound().reconciled == 1)
            let ended = try #require(try await find(call.id, database: database))
            #expect(ended.status == .ended && ended.endReason == .participantLeft)
            #expect(ended.endedAt == start.addingTimeInterval(91) && ended.billedIncrements == 2)
            #expect(rooms.deletedRooms == [call.roomName])
            #expect(try await LedgerVerifier(database: database).verify(logger: logger).isHealthy)
        }
    }

    /// Runs `body` against a database of its own, with the engine's clock standing until the test moves it.
    private func withDatabaseAndClock(_ body: (Database, TestClock) async throws -> Void) async throws {
        try await TestPostgres.withAppDatabase { database in
            try await body(database, TestClock())
        }
    }

    // MARK: - Reading back

    private func chargeCount(_ database: Database) async throws -> Int {
        try await database.withTransaction(.platform, logger: logger) { connection in
            Int(
                try await connection.query("SELECT count(*) FROM ledger_transactions WHERE kind = 'call_charge'", logger: logger)
                    .collect().first!.decode(Int64.self))
        }
    }

    /// Calls the engine's due list gets wrong (`CallBillingDueList`).
    private func callsOffTheDueList(_ database: Database) async throws -> Int64 {
        try await database.withTransaction(.platform, logger: logger) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: CallBillingDueList.mismatchesSQL), logger: logger).collect().first!.decode(
                Int64.self)
        }
    }

    private func dueListCount(_ database: Database) async throws -> Int64 {
        try await database.withTransaction(.platform, logger: logger) { connection in
            try await connection.query("SELECT count(*) FROM call_billing_due", logger: logger).collect().first!.decode(Int64.self)
        }
    }

    private func billedIncrements(_ database: Database) async throws -> [Int] {
        try await database.withTransaction(.platform, logger: logger) { connection in
            try await connection.query("SELECT billed_increments FROM calls ORDER BY id", logger: logger).collect().map {
                Int(try $0.decode(Int32.self))
            }
        }
    }

    private func walletBalance(_ user: UUID, fixture: ActiveCallsFixture, database: Database) async throws -> Int64 {
        try await database.withTransaction(.platform, logger: logger) { connection in
            try await connection.query(
                "SELECT balance FROM ledger_accounts WHERE kind = 'wallet' AND owner_id = \(user)", logger: logger
            ).collect().first!.decode(Int64.self)
        }
    }

    private func partyMissingSince(_ id: UUID, database: Database) async throws -> Date? {
        try await database.withTransaction(.platform, logger: logger) { connection in
            try await connection.query("SELECT party_missing_since FROM calls WHERE id = \(id)", logger: logger)
                .collect().first!.decode(Date?.self)
        }
    }

    private func find(_ id: UUID, database: Database) async throws -> Call? {
        try await database.withTransaction(.platform, logger: logger) { connection in
            try await CallRecords.find(id, lock: false, on: connection, logger: logger)
        }
    }

    private func presence(of advisor: UUID, database: Database) async throws -> String {
        try await database.withTransaction(.platform, logger: logger) { connection in
            try await connection.query("SELECT presence FROM advisor_profiles WHERE user_id = \(advisor)", logger: logger)
                .collect().first!.decode(String.self)
        }
    }
}

struct EngineKilled: Error {}

/// Alerts kept in memory.
final class RecordingAlerts: IncomingCallAlerting, Sendable {
    let announced = Mutex<[UUID]>([])
    func announce(_ call: Call, callerName: String) { announced.withLock { $0.append(call.id) } }
}

extension CallService {
    static func forTests(
        database: Database, clock: TestClock, rooms: RecordingCallRooms = RecordingCallRooms(), alerts: RecordingAlerts = RecordingAlerts(),
        settings: CallSettings = .withoutReconciliation
    ) -> CallService {
        CallService(
            database: database, rooms: rooms, credentials: SharedCallRoomCredentials(RecordingCallRooms.credentials), alerts: alerts,
            clock: clock, settings: settings)
    }
}

extension CallSettings {
    /// Settings under which the engine never asks the media service who is in a room (the recording rooms of
    /// these tests hold nobody, which reconciliation would take for lost events).
    static var withoutReconciliation: CallSettings {
        var settings = CallSettings()
        settings.reconcileInterval = .seconds(365 * 86_400)
        return settings
    }
}
