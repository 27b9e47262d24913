import Foundation
import PostgresNIO
import TalktimeTestSupport
import Testing

@testable import TalktimeCore

/// The batch posting path (`talktime_ledger_post_batch`), which the billing engine charges many calls with.
@Suite struct LedgerBatchTests {
    let logger = TestPostgres.logger

    @Test func aBatchPostsEachPostingInOrderAgainstTheLockedBalances() async throws {
        try await TestPostgres.withAppDatabase { database in
            let ledger = Ledger(database: database)
            let world = try await MoneyFixture.create(in: database, endUsers: 3, platformFeeBasisPoints: 1250, commissionBasisPoints: 2075)
            let (a, b, c) = (world.endUserIDs[0], world.endUserIDs[1], world.endUserIDs[2])
            try await world.fund(a, 1_000, ledger: ledger)
            try await world.fund(b, 150, ledger: ledger)
            // c has nothing. b can pay its first charge of 100, not its second.
            let postings = try [
                world.charge(a, 333, key: "a1"), world.charge(b, 100, key: "b1"), world.charge(c, 1, key: "c1"),
                world.charge(b, 100, key: "b2"), world.charge(a, 333, key: "a2"),
            ]
            let outcomes = try await post(postings, database: database)

            #expect(outcomes.map(\.name) == ["posted", "posted", "insufficient", "insufficient", "posted"])
            #expect(try await world.walletBalance(a, database: database) == 334)
            #expect(try await world.walletBalance(b, database: database) == 50)
            #expect(try await world.walletBalance(c, database: database) == 0)
            let advisor = try await balance(of: world.advisorID, kind: "advisor_earnings", world: world, database: database)
            // Each 333 splits 41 / 69 / 223 (as the single posting does); 100 splits 12 / 20 / 68.
            #expect(advisor == 223 + 68 + 223)
            #expect(try await LedgerVerifier(database: database).verify(logger: logger).isHealthy)
        }
    }

    @Test func aBatchPostedAgainIsReplayedAndMovesNothing() async throws {
        try await TestPostgres.withAppDatabase { database in
            let ledger = Ledger(database: database)
            let world = try await MoneyFixture.create(in: database)
            let user = world.endUserIDs[0]
            try await world.fund(user, 1_000, ledger: ledger)
            let postings = try (1...5).map { try world.charge(user, 10, key: "k\($0)") }
            let first = try await post(postings, database: database)
            // Half of it again, with one new posting: only the new one moves money.
            let second = try await post(Array(postings.prefix(3)) + [try world.charge(user, 10, key: "k6")], database: database)

            #expect(first.map(\.name) == Array(repeating: "posted", count: 5))
            #expect(second.map(\.name) == ["replayed", "replayed", "replayed", "posted"])
            #expect(zip(first.prefix(3), second.prefix(3)).allSatisfy { $0.transactionID == $1.transactionID })
            #expect(try await world.walletBalance(user, database: database) == 940)
            // A single posting of a key the batch posted is a replay too.
            #expect(try await ledger.post(postings[0], logger: logger).replayed)
            #expect(try await LedgerVerifier(database: database).verify(logger: logger).isHealthy)
        }
    }

    @Test func theDatabaseRefusesAMalformedBatchAndWritesNothing() async throws {
        try await TestPostgres.withAppDatabase { database in
            let ledger = Ledger(database: database)
            let world = try await MoneyFixture.create(in: database)
            let user = world.endUserIDs[0]
            try await world.fund(user, 1_000, ledger: ledger)
            let charge = try world.charge(user, 10, key: "same")
            await #expect(throws: PSQLError.self) { try await post([charge, charge], database: database) }

            // Straight SQL, past the Swift checks: legs that do not sum to zero, legs out of order.
            for (postings, amounts) in [([Int32(1), 1], [Int64(-10), 9]), ([2, 1, 1, 2], [-1, -1, 1, 1])] {
                let count = Set(postings).count
                await #expect(throws: PSQLError.self) {
                    try await database.withTransaction(.licensee(world.licenseeID), logger: logger) { connection in
                        try await connection.query(
                            """
                            SELECT * FROM talktime_ledger_post_batch(
                                \(Array(repeating: world.licenseeID, count: count))::uuid[], \(Array(repeating: "EUR", count: count))::text[],
                                \(Array(repeating: "adjustment", count: count))::text[], \((1...count).map { "bad\($0)" })::text[],
                                \(Array(repeating: "{}", count: count))::jsonb[], \(postings)::int4[],
                                \(postings.map { $0 == 1 ? "wallet" : "promotions" })::text[],
                                \(postings.map { $0 == 1 ? user : world.licenseeID })::uuid[], \(postings.map { _ in Int16(0) })::int2[],
                                \(amounts)::int8[], \(postings.map { _ in true })::boolean[])
                            """, logger: logger
                        ).collect()
                    }
                }
            }
            #expect(try await world.walletBalance(user, database: database) == 1_000)
            #expect(try await LedgerVerifier(database: database).verify(logger: logger).isHealthy)
        }
    }

    @Test func concurrentBatchesOverTheSameHotAccountsLoseNothing() async throws {
        try await TestPostgres.withAppDatabase { database in
            let ledger = Ledger(database: database)
            let world = try await MoneyFixture.create(in: database, endUsers: 16)
            for user in world.endUserIDs { try await world.fund(user, 10_000, ledger: ledger) }
            // 8 workers, 10 batches each, every batch charging every wallet once; batches share hot shards.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        for round in 0..<10 {
                            let postings = try world.endUserIDs.shuffled().map { user in
                                try world.charge(user, 7, key: "w\(worker)r\(round)\(user)")
                            }
                            let outcomes = try await post(postings, database: database)
                            #expect(outcomes.allSatisfy { $0.name == "posted" })
                        }
                    }
                }
                try await group.waitForAll()
            }
            for user in world.endUserIDs { #expect(try await world.walletBalance(user, database: database) == 10_000 - 80 * 7) }
            #expect(try await LedgerVerifier(database: database).verify(logger: logger).isHealthy)
        }
    }

    /// Both posting paths make version 7 ids (migration 0015): they sort by the time they were made, so new
    /// transactions and entries land on the rightmost pages of the indexes on transaction ids, not on random ones.
    @Test func transactionIdsAreOrderedByTheTimeTheyWereMade() async throws {
        try await TestPostgres.withAppDatabase { database in
            let ledger = Ledger(database: database)
            let world = try await MoneyFixture.create(in: database)
            let user = world.endUserIDs[0]
            try await world.fund(user, 1_000, ledger: ledger)
            var ids: [UUID] = []
            for round in 0..<3 {
                ids.append(try await ledger.post(try world.charge(user, 10, key: "single-\(round)"), logger: logger).id)
                try await Task.sleep(for: .milliseconds(3))
                let batch = try await post((0..<3).map { try world.charge(user, 10, key: "batch-\(round)-\($0)") }, database: database)
                ids += batch.compactMap(\.transactionID)
                try await Task.sleep(for: .milliseconds(3))
            }

            #expect(ids.count == 12)
            // Postings made milliseconds apart are in order; those of one batch share their first 48 bits.
            let times = ids.compactMap(\.version7Milliseconds)
            #expect(times.count == ids.count)
            #expect(zip(times, times.dropFirst()).allSatisfy { $0 <= $1 })
            #expect(Set(times).count >= 6)
            let now = UInt64(Date().timeIntervalSince1970 * 1000)
            #expect(times.allSatisfy { now - $0 < 60_000 })
            // Random enough: no two alike.
            #expect(Set(ids).count == ids.count)
        }
    }

    private func post(_ postings: [Posting], database: Database) async throws -> [BatchPostingOutcome] {
        try await database.withTransaction(.platform, logger: logger) { connection in
            try await Ledger.postBatch(postings, on: connection, logger: logger)
        }
    }

    private func balance(of owner: UUID, kind: String, world: MoneyFixture, database: Database) async throws -> Int64 {
        try await database.withTransaction(.licensee(world.licenseeID), logger: logger) { connection in
            try await connection.query(
                "SELECT coalesce(sum(balance), 0)::int8 FROM ledger_accounts WHERE kind = \(kind) AND owner_id = \(owner)", logger: logger
            ).collect().first!.decode(Int64.self)
        }
    }
}

extension BatchPostingOutcome {
    var name: String {
        switch self {
        case .posted: "posted"
        case .replayed: "replayed"
        case .insufficientFunds: "insufficient"
        }
    }

    var transactionID: UUID? {
        switch self {
        case .posted(let id), .replayed(let id): id
        case .insufficientFunds: nil
        }
    }
}
