import Foundation
import PostgresNIO
import TalktimeTestSupport
import Testing

@testable import TalktimeCore

/// Standalone postings that arrive together are committed together (`PostingCombiner` through
/// `talktime_ledger_post_batch`), and each caller still gets exactly what the single path would have answered.
@Suite struct LedgerCombinedPostingTests {
    let logger = TestPostgres.logger

    @Test func concurrentChargesOfOneWalletShareCommitsAndEachGetsItsOwnAnswer() async throws {
        try await TestPostgres.withAppDatabase(maximumConnections: 32) { database in
            let ledger = Ledger(database: database)
            let world = try await MoneyFixture.create(in: database)
            let user = world.endUserIDs[0]
            // Funded for 20 charges of 100; 32 are asked for at once.
            try await world.fund(user, 2_000, ledger: ledger)
            let postings = try (0..<32).map { try world.charge(user, 100, key: "together-\($0)") }
            let answers = await postAtOnce(postings.map { ($0, $0) }, ledger: ledger)
            var posted: [(Posting, PostedTransaction)] = []
            for (posting, answer) in answers {
                switch answer {
                case .success(let transaction): posted.append((posting, transaction))
                case .failure(LedgerError.insufficientFunds(let account, let balance)):
                    #expect(account == .wallet(of: user))
                    #expect(balance < 100)
                case .failure(let error): Issue.record(error)
                }
            }

            #expect(posted.count == 20)
            #expect(try await world.walletBalance(user, database: database) == 0)
            // Each answer holds the wallet's balance after its own charge: 1,900 down to 0, each once.
            let walletAfter = posted.compactMap { $0.1.entry(for: .wallet(of: user))?.balanceAfter }
            #expect(walletAfter.sorted() == stride(from: 0, through: 1_900, by: 100).map(Int64.init))
            // Charges that shared a commit share its time (some did), and one shard of each hot account.
            let commits = Dictionary(grouping: posted.map(\.1), by: \.createdAt)
            #expect(commits.count < posted.count)
            for (_, shared) in commits where shared.count > 1 {
                let hotAccounts = Set(shared.flatMap(\.entries).map(\.account).filter(\.kind.isSharded))
                #expect(hotAccounts.count == 2)
            }
            // What each caller was told is what the ledger recorded: a replay reads it back from the tables.
            for (posting, answer) in posted {
                let replay = try await ledger.post(posting, logger: logger)
                #expect(replay.replayed)
                #expect(replay.id == answer.id)
                #expect(abs(replay.createdAt.timeIntervalSince(answer.createdAt)) < 0.000_01)
                #expect(
                    replay.entries.sorted { $0.accountID.uuidString < $1.accountID.uuidString }
                        == answer.entries.sorted { $0.accountID.uuidString < $1.accountID.uuidString })
            }
            #expect(try await LedgerVerifier(database: database).verify(logger: logger).isHealthy)
        }
    }

    @Test func aPostingThatFailsABatchFailsAloneAndTheOthersArePosted() async throws {
        try await TestPostgres.withAppDatabase(maximumConnections: 16) { database in
            let ledger = Ledger(database: database)
            let world = try await MoneyFixture.create(in: database)
            let user = world.endUserIDs[0]
            try await world.fund(user, 10_000, ledger: ledger)
            // The wallet is in EUR: a charge in USD makes the database refuse the whole statement it is in.
            let strayCurrency = try Posting(
                licenseeID: world.licenseeID, currency: "USD", kind: .adjustment, idempotencyKey: "usd",
                legs: [.init(.promotions, 10), .init(.wallet(of: user), -10)])
            let postings = try (0..<16).map { try world.charge(user, 10, key: "eur-\($0)") } + [strayCurrency]
            let answers = await postAtOnce(postings.shuffled().map { ($0.idempotencyKey, $0) }, ledger: ledger)
            let failed = answers.filter { (try? $0.1.get()) == nil }.map(\.0)

            #expect(failed == ["usd"])
            #expect(try await world.walletBalance(user, database: database) == 10_000 - 16 * 10)
            #expect(try await LedgerVerifier(database: database).verify(logger: logger).isHealthy)
        }
    }

    @Test func replaysReusedKeysAndOtherLicenseesArrivingTogetherGetTheSinglePathsAnswers() async throws {
        try await TestPostgres.withAppDatabase(maximumConnections: 16) { database in
            let ledger = Ledger(database: database)
            let alpha = try await MoneyFixture.create(in: database, slug: "alpha")
            let beta = try await MoneyFixture.create(in: database, slug: "beta")
            let (alice, bob) = (alpha.endUserIDs[0], beta.endUserIDs[0])
            try await alpha.fund(alice, 10_000, ledger: ledger)
            try await beta.fund(bob, 10_000, ledger: ledger)
            let original = try await ledger.post(try alpha.charge(alice, 100, key: "original"), logger: logger)

            enum Answer: Sendable, Equatable { case posted, replayed(UUID), reused, failed }
            var postings: [(String, Posting)] = []
            for index in 0..<12 {
                postings.append(("alpha-\(index)", try alpha.charge(alice, 10, key: "a\(index)")))
                postings.append(("beta-\(index)", try beta.charge(bob, 10, key: "b\(index)")))
            }
            postings.append(("replay", try alpha.charge(alice, 100, key: "original")))
            postings.append(("reused", try alpha.charge(alice, 101, key: "original")))
            var answers: [String: Answer] = [:]
            for (name, result) in await postAtOnce(postings.shuffled(), ledger: ledger) {
                switch result {
                case .success(let posted): answers[name] = posted.replayed ? .replayed(posted.id) : .posted
                case .failure(LedgerError.idempotencyKeyReused): answers[name] = .reused
                case .failure: answers[name] = .failed
                }
            }

            #expect(answers["replay"] == .replayed(original.id))
            #expect(answers["reused"] == .reused)
            #expect(answers.filter { $0.value == .posted }.count == 24)
            #expect(try await alpha.walletBalance(alice, database: database) == 10_000 - 100 - 12 * 10)
            #expect(try await beta.walletBalance(bob, database: database) == 10_000 - 12 * 10)
            #expect(try await LedgerVerifier(database: database).verify(logger: logger).isHealthy)
        }
    }

    /// Posts every posting at once, each from a task of its own, and returns each one's answer under its tag.
    private func postAtOnce<Tag: Sendable>(_ postings: [(Tag, Posting)], ledger: Ledger) async -> [(Tag, Result<PostedTransaction, any Error>)] {
        await withTaskGroup(of: (Tag, Result<PostedTransaction, any Error>).self) { group in
            for (tag, posting) in postings {
                group.addTask {
                    do {
                        return (tag, .success(try await ledger.post(posting, logger: logger)))
                    } catch {
                        return (tag, .failure(error))
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
    }
}
