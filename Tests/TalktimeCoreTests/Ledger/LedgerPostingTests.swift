import Foundation
import PostgresNIO
import TalktimeTestSupport
import Testing

@testable import TalktimeCore

/// The posting path against a real PostgreSQL: balances, replays, the rules, and what the database refuses.
@Suite struct LedgerPostingTests {
    let logger = TestPostgres.logger

    @Test func aChargeMovesTheGrossFromTheWalletAndSplitsItToTheCent() async throws {
        try await TestPostgres.withAppDatabase { database in
            let ledger = Ledger(database: database)
            let world = try await MoneyFixture.create(in: database, platformFeeBasisPoints: 1250, commissionBasisPoints: 2075)
            let user = world.endUserIDs[0]
            try await world.fund(user, 1_000, ledger: ledger)
            let posted = try await ledger.post(try world.charge(user, 333), logger: logger)

            #expect(!posted.replayed)
            #expect(posted.entry(for: .wallet(of: user))?.balanceAfter == 667)
            // floor(333 × 12.5 %) = 41, floor(333 × 20.75 %) = 69, the Advisor gets the remaining 223.
            #expect(posted.entry(for: .advisorEarnings(of: world.advisorID))?.amount == 223)
            #expect(posted.entries.filter { $0.account.kind == .platformRevenue }.map(\.amount) == [41])
            #expect(posted.entries.filter { $0.account.kind == .licenseeEarnings }.map(\.amount) == [69])
            #expect(posted.entries.map(\.amount).reduce(0, +) == 0)
            #expect(try await world.walletBalance(user, database: database) == 667)
            #expect(try await LedgerVerifier(database: database).verify(logger: logger).isHealthy)
        }
    }

    @Test func theSameKeyReturnsTheFirstResultAndMovesNothingMore() async throws {
        try await TestPostgres.withAppDatabase { database in
            let ledger = Ledger(database: database)
            let world = try await MoneyFixture.create(in: database)
            let user = world.endUserIDs[0]
            try await world.fund(user, 1_000, ledger: ledger)
            let first = try await ledger.post(try world.charge(user, 100, key: "k1"), logger: logger)
            let second = try await ledger.post(try world.charge(user, 100, key: "k1"), logger: logger)

            #expect(second.replayed)
            #expect(second.id == first.id)
            #expect(Set(second.entries.map(\.amount)) == Set(first.entries.map(\.amount)))
            #expect(second.entry(for: .wallet(of: user))?.balanceAfter == 900)
            #expect(try await world.walletBalance(user, database: database) == 900)

            await #expect(throws: LedgerError.idempotencyKeyReused(key: "charge:k1")) {
                try await ledger.post(try world.charge(user, 101, key: "k1"), logger: logger)
            }
            #expect(try await world.walletBalance(user, database: database) == 900)
        }
    }

    @Test func aChargeOrAdjustmentNeverTakesAWalletBelowZeroButARefundMay() async throws {
        try await TestPostgres.withAppDatabase { database in
            let ledger = Ledger(database: database)
            let world = try await MoneyFixture.create(in: database)
            let user = world.endUserIDs[0]
            try await world.fund(user, 100, ledger: ledger)

            await #expect(throws: LedgerError.insufficientFunds(account: .wallet(of: user), balance: 100)) {
                try await ledger.post(try world.charge(user, 101), logger: logger)
            }
            let adjustment = try Posting(
                licenseeID: world.licenseeID, currency: "EUR", kind: .adjustment, idempotencyKey: "adj",
                legs: [.init(.wallet(of: user), -150), .init(.promotions, 150)])
            await #expect(throws: LedgerError.insufficientFunds(account: .wallet(of: user), balance: 100)) {
                try await ledger.post(adjustment, logger: logger)
            }
            #expect(try await world.walletBalance(user, database: database) == 100)

            let refund = try Posting(
                licenseeID: world.licenseeID, currency: "EUR", kind: .refund, idempotencyKey: "refund",
                legs: [.init(.wallet(of: user), -150), .init(.paymentClearing, 150)])
            let posted = try await ledger.post(refund, logger: logger)
            #expect(posted.entry(for: .wallet(of: user))?.balanceAfter == -50)
            // In debt, the wallet pays for nothing, not even one cent.
            await #expect(throws: LedgerError.insufficientFunds(account: .wallet(of: user), balance: -50)) {
                try await ledger.post(try world.charge(user, 1), logger: logger)
            }
            #expect(try await LedgerVerifier(database: database).verify(logger: logger).isHealthy)
        }
    }

    @Test func sixtyFourConcurrentChargesOnAWalletFundedForOneLetExactlyOneThrough() async throws {
        try await TestPostgres.withAppDatabase(maximumConnections: 32) { database in
            let ledger = Ledger(database: database)
            let world = try await MoneyFixture.create(in: database)
            let user = world.endUserIDs[0]
            try await world.fund(user, 500, ledger: ledger)

            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<64 {
                    group.addTask {
                        do {
                            _ = try await ledger.post(try world.charge(user, 500, key: "double-spend-\(index)"), logger: logger)
                            return true
                        } catch LedgerError.insufficientFunds {
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1)
            #expect(try await world.walletBalance(user, database: database) == 0)
            #expect(try await LedgerVerifier(database: database).verify(logger: logger).isHealthy)
        }
    }

    @Test func concurrentPostingsOfOneKeyRecordOneTransaction() async throws {
        try await TestPostgres.withAppDatabase(maximumConnections: 16) { database in
            let ledger = Ledger(database: database)
            let world = try await MoneyFixture.create(in: database)
            let user = world.endUserIDs[0]
            try await world.fund(user, 10_000, ledger: ledger)
            let ids = try await withThrowingTaskGroup(of: UUID.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await ledger.post(try world.charge(user, 250, key: "same"), logger: logger).id }
                }
                return try await group.reduce(into: Set<UUID>()) { $0.insert($1) }
            }
            #expect(ids.count == 1)
            #expect(try await world.walletBalance(user, database: database) == 9_750)
        }
    }

    @Test func theServiceRoleCanNeitherRewriteTheLedgerNorSetABalance() async throws {
        try await TestPostgres.withAppDatabase { database in
            let ledger = Ledger(database: database)
            let world = try await MoneyFixture.create(in: database)
            let user = world.endUserIDs[0]
            try await world.fund(user, 100, ledger: ledger)
            let attempts = [
                "UPDATE ledger_entries SET amount = amount * 2",
                "DELETE FROM ledger_entries",
                "DELETE FROM ledger_transactions",
                "UPDATE ledger_transactions SET kind = 'promo'",
                "UPDATE ledger_accounts SET balance = 1000000",
                "TRUNCATE ledger_entries",
                // Writing the ledger other than through the posting function.
                """
                INSERT INTO ledger_entries (licensee_id, transaction_id, account_id, amount, balance_after)
                SELECT licensee_id, transaction_id, account_id, 5, 0 FROM ledger_entries LIMIT 1
                """,
                """
                INSERT INTO ledger_transactions (licensee_id, kind, idempotency_key, currency)
                VALUES ('\(world.licenseeID.uuidString.lowercased())', 'promo', 'empty', 'EUR')
                """,
                "INSERT INTO ledger_accounts (licensee_id, kind, owner_id, currency) SELECT id, 'promotions', id, 'EUR' FROM licensees",
                // Through the function, but money out of nothing: legs that do not sum to zero.
                """
                SELECT * FROM talktime_ledger_post(false, '\(world.licenseeID.uuidString.lowercased())', 'EUR', 'promo', 'free money',
                    '{}', ARRAY['wallet', 'promotions'], ARRAY['\(user.uuidString.lowercased())', '\(world.licenseeID.uuidString.lowercased())']::uuid[],
                    ARRAY[0, 0]::int2[], ARRAY[500, -1]::int8[], ARRAY[false, true])
                """,
                // A single leg, and a zero leg.
                """
                SELECT * FROM talktime_ledger_post(false, '\(world.licenseeID.uuidString.lowercased())', 'EUR', 'promo', 'one leg',
                    '{}', ARRAY['wallet'], ARRAY['\(user.uuidString.lowercased())']::uuid[], ARRAY[0]::int2[], ARRAY[500]::int8[], ARRAY[false])
                """,
            ]
            for statement in attempts {
                await #expect(throws: (any Error).self, "\(statement)") {
                    try await database.withTransaction(.licensee(world.licenseeID), logger: logger) { connection in
                        // Collected: a function's error arrives with its rows.
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger).collect()
                    }
                }
            }
            #expect(try await world.walletBalance(user, database: database) == 100)
            #expect(try await LedgerVerifier(database: database).verify(logger: logger).isHealthy)
        }
    }

    @Test func aPostingCannotReachAnotherTenantsAccounts() async throws {
        try await TestPostgres.withAppDatabase { database in
            let ledger = Ledger(database: database)
            let alpha = try await MoneyFixture.create(in: database, slug: "alpha")
            let beta = try await MoneyFixture.create(in: database, slug: "beta")
            try await alpha.fund(alpha.endUserIDs[0], 100, ledger: ledger)
            // Scoped to alpha, a posting for beta sees no account of beta and writes nothing.
            await #expect(throws: (any Error).self) {
                try await database.withTransaction(.licensee(alpha.licenseeID), logger: logger) { connection in
                    try await ledger.post(try beta.charge(beta.endUserIDs[0], 1), on: connection, logger: logger)
                }
            }
            // Nor can a posting re-scope a transaction already scoped to alpha.
            await #expect(throws: (any Error).self) {
                try await database.withTransaction(.licensee(alpha.licenseeID), logger: logger) { connection in
                    try await connection.query(
                        """
                        SELECT * FROM talktime_ledger_post(true, \(beta.licenseeID), 'EUR', 'promo', 'k', '{}',
                            ARRAY['wallet', 'promotions'], ARRAY[\(beta.endUserIDs[0]), \(beta.licenseeID)]::uuid[], ARRAY[0, 0]::int2[],
                            ARRAY[5, -5]::int8[], ARRAY[false, true])
                        """,
                        logger: logger
                    ).collect()
                }
            }
            // An alpha wallet named in a beta posting is another tenant's user: refused.
            await #expect(throws: (any Error).self) {
                try await ledger.post(
                    try Posting(
                        licenseeID: beta.licenseeID, currency: "EUR", kind: .promo, idempotencyKey: "cross",
                        legs: [.init(.wallet(of: alpha.endUserIDs[0]), 5), .init(.promotions, -5)]),
                    logger: logger)
            }
            #expect(try await alpha.walletBalance(alpha.endUserIDs[0], database: database) == 100)
            #expect(try await LedgerVerifier(database: database).verify(logger: logger).isHealthy)
        }
    }

    @Test func verifyReportsWhatTheOwnerBrokeBehindTheServicesBack() async throws {
        try await TestPostgres.withDatabase { testDatabase in
            try await testDatabase.withAppDatabase { database in
                let ledger = Ledger(database: database)
                let world = try await MoneyFixture.create(in: database)
                let user = world.endUserIDs[0]
                try await world.fund(user, 100, ledger: ledger)
                _ = try await ledger.post(try world.charge(user, 60), logger: logger)
                // Only a superuser with the triggers switched off can do this; verify must notice.
                try await testDatabase.withClient(testDatabase.superuserURL) { client in
                    try await client.withConnection { connection in
                        try await connection.query("SET session_replication_role = replica", logger: logger)
                        try await connection.query("UPDATE ledger_accounts SET balance = balance + 7 WHERE kind = 'wallet'", logger: logger)
                        try await connection.query(
                            "UPDATE ledger_entries SET amount = -200, balance_after = -100 WHERE amount = -60", logger: logger)
                    }
                }
                let report = try await LedgerVerifier(database: database).verify(logger: logger)
                #expect(report.problems.contains { $0.contains("entries sum to -140") })
                #expect(report.problems.contains { $0.contains("(wallet): balance 47, but its entries sum to -100") })
                #expect(report.problems.contains { $0.contains("below zero") })
            }
        }
    }

    @Test func verifyReportsReferencesToNothingSinceTheLedgerHasNoForeignKeys() async throws {
        try await TestPostgres.withDatabase { testDatabase in
            try await testDatabase.withAppDatabase { database in
                let ledger = Ledger(database: database)
                let world = try await MoneyFixture.create(in: database)
                let user = world.endUserIDs[0]
                try await world.fund(user, 100, ledger: ledger)
                #expect(try await LedgerVerifier(database: database).verify(logger: logger).isHealthy)
                let (missingAccount, missingTransaction, missingLicensee) = (UUID(), UUID(), UUID())
                try await testDatabase.withClient(testDatabase.superuserURL) { client in
                    try await client.withConnection { connection in
                        try await connection.query(
                            """
                            INSERT INTO ledger_entries (licensee_id, transaction_id, account_id, amount, balance_after)
                            SELECT licensee_id, \(missingTransaction), account_id, 5, 5 FROM ledger_entries LIMIT 1
                            """, logger: logger)
                        try await connection.query(
                            """
                            INSERT INTO ledger_entries (licensee_id, transaction_id, account_id, amount, balance_after)
                            SELECT licensee_id, transaction_id, \(missingAccount), -5, -5 FROM ledger_entries LIMIT 1
                            """, logger: logger)
                        try await connection.query(
                            """
                            INSERT INTO ledger_transactions (licensee_id, kind, idempotency_key, currency)
                            VALUES (\(missingLicensee), 'adjustment', 'orphan', 'EUR')
                            """, logger: logger)
                    }
                }
                let problems = try await LedgerVerifier(database: database).verify(logger: logger).problems
                #expect(problems.contains { $0.contains("its transaction \(missingTransaction.uuidString.lowercased()) is missing") })
                #expect(problems.contains { $0.contains("its account \(missingAccount.uuidString.lowercased()) is missing") })
                #expect(problems.contains { $0.contains("its Licensee \(missingLicensee.uuidString.lowercased()) is missing") })
            }
        }
    }

    @Test func aSplitAlwaysAddsUpToTheGross() throws {
        var random = SeededGenerator(seed: SeededGenerator.seed(named: "aSplitAlwaysAddsUpToTheGross"))
        for _ in 0..<10_000 {
            let gross = Int64.random(in: 1...Int64.max, using: &random) >> Int64.random(in: 0...62, using: &random)
            let platform = Int.random(in: 0...10_000, using: &random)
            let commission = Int.random(in: 0...(10_000 - platform), using: &random)
            let split = try ChargeSplit(gross: max(gross, 1), platformFeeBasisPoints: platform, commissionBasisPoints: commission)
            #expect(split.platform + split.licensee + split.advisor == max(gross, 1))
            #expect(split.platform >= 0 && split.licensee >= 0 && split.advisor >= 0)
        }
    }
}
