import Foundation
import Synchronization
import TalktimeTestSupport
import Testing

@testable import TalktimeCore

/// The combiner's bookkeeping, with a poster that records its batches instead of a database: who leads, who
/// waits, what may share a batch, and that every caller gets its own answer.
@Suite struct PostingCombinerTests {
    /// A poster that takes `delay` per batch and records each batch and how many ran at once.
    final class RecordingPoster: Sendable {
        struct Record {
            var batches: [[Posting]] = []
            var running = 0
            var mostRunning = 0
        }
        let record = Mutex(Record())
        let delay: Duration
        /// Keys whose posting fails, to show a failure reaches its own caller only.
        let failing: Set<String>

        init(delay: Duration, failing: Set<String> = []) {
            self.delay = delay
            self.failing = failing
        }

        func post(_ postings: [Posting]) async -> [Result<PostedTransaction, any Error>] {
            record.withLock {
                $0.batches.append(postings)
                $0.running += 1
                $0.mostRunning = max($0.mostRunning, $0.running)
            }
            try? await Task.sleep(for: delay)
            record.withLock { $0.running -= 1 }
            return postings.map { posting in
                if failing.contains(posting.idempotencyKey) { return .failure(LedgerError.invalidPosting(posting.idempotencyKey)) }
                return .success(
                    PostedTransaction(id: UUID(), kind: posting.kind, currency: posting.currency, createdAt: Date(), entries: [], replayed: false))
            }
        }
    }

    static func posting(licensee: UUID, key: String) throws -> Posting {
        try Posting(
            licenseeID: licensee, currency: "EUR", kind: .adjustment, idempotencyKey: key,
            legs: [.init(.paymentClearing, -1), .init(.wallet(of: UUID()), 1)])
    }

    @Test func oneCallerAtATimeIsPostedAloneWithoutWaiting() async throws {
        let poster = RecordingPoster(delay: .zero)
        let combiner = PostingCombiner(concurrentBatches: 2, batchLimit: 64) { postings, _ in await poster.post(postings) }
        let licensee = UUID()
        for index in 0..<5 { _ = try await combiner.post(try Self.posting(licensee: licensee, key: "k\(index)"), logger: TestPostgres.logger) }
        #expect(poster.record.withLock { $0.batches.map(\.count) } == [1, 1, 1, 1, 1])
    }

    @Test func concurrentCallersShareBatchesWithinTheLimits() async throws {
        let poster = RecordingPoster(delay: .milliseconds(20), failing: ["a7", "b3"])
        let combiner = PostingCombiner(concurrentBatches: 2, batchLimit: 8) { postings, _ in await poster.post(postings) }
        let (a, b) = (UUID(), UUID())
        // 40 postings of Licensee a (key a0 twice: a replay must never share a batch with its original) and 20 of b.
        var postings =
            try (0..<40).map { try Self.posting(licensee: a, key: "a\($0)") } + (0..<20).map { try Self.posting(licensee: b, key: "b\($0)") }
        postings.append(try Self.posting(licensee: a, key: "a0"))
        let answers = await withTaskGroup(of: (String, Bool).self) { group in
            for posting in postings.shuffled() {
                group.addTask {
                    do {
                        let posted = try await combiner.post(posting, logger: TestPostgres.logger)
                        return (posting.idempotencyKey, posted.kind == posting.kind)
                    } catch {
                        return (posting.idempotencyKey, false)
                    }
                }
            }
            return await group.reduce(into: [(String, Bool)]()) { $0.append($1) }
        }

        let record = poster.record.withLock { $0 }
        // Every caller answered once, and only the two failing keys failed.
        #expect(answers.count == postings.count)
        #expect(Set(answers.filter { !$0.1 }.map(\.0)) == ["a7", "b3"])
        #expect(record.batches.map(\.count).reduce(0, +) == postings.count)
        // Batches were shared, never larger than the limit, never more than two at once.
        #expect(record.batches.count < postings.count)
        #expect(record.batches.allSatisfy { $0.count <= 8 })
        #expect(record.mostRunning <= 2)
        // A batch is of one Licensee, its keys distinct.
        for batch in record.batches {
            #expect(Set(batch.map(\.licenseeID)).count == 1)
            #expect(Set(batch.map(\.idempotencyKey)).count == batch.count)
        }
    }

    @Test func aPosterThatAnswersForTooFewPostingsFailsEachOfThemRatherThanLeavingOneWaiting() async throws {
        let combiner = PostingCombiner(concurrentBatches: 1, batchLimit: 8) { postings, _ in
            try? await Task.sleep(for: .milliseconds(20))
            return postings.count > 1 ? [] : [.failure(LedgerError.invalidPosting("alone"))]
        }
        let licensee = UUID()
        let failures = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<6 {
                group.addTask {
                    do {
                        _ = try await combiner.post(try Self.posting(licensee: licensee, key: "k\(index)"), logger: TestPostgres.logger)
                        return false
                    } catch {
                        return true
                    }
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(failures == 6)
    }
}
