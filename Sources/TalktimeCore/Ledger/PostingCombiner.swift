import Logging
import Synchronization

/// Group commit for postings that stand alone: postings that arrive while others are being posted wait, and are
/// then posted together, by one of them, as one statement and one commit.
///
/// Every posting keeps its own ledger transaction, key, checks and result; they share only the database round
/// trip, the commit and its flush to disk. A charge holds its wallet's row lock until its commit is on disk, so
/// charges of one wallet queue behind each other's flushes; posted together, they pay for one flush. Postings that
/// arrive one at a time are posted alone, exactly as before, with no wait.
///
/// Up to `concurrentBatches` callers post at once (the leaders). Every other caller waits in arrival order. A
/// leader takes the first waiting postings of its own Licensee, up to `batchLimit` in all, whose keys differ from
/// each other's, posts them with its own, answers each waiter, and hands the lead to the first posting still
/// waiting, if any. So no posting waits for more than the batches ahead of it, and no task is spawned to drain the
/// queue.
final class PostingCombiner: Sendable {
    /// Posts a batch (one posting or several, all of one Licensee, keys distinct) and answers for each, in order;
    /// it logs to the leader's logger.
    typealias Poster = @Sendable ([Posting], Logger) async -> [Result<PostedTransaction, any Error>]

    /// What a waiting posting is told when it is its turn.
    private enum Turn: Sendable {
        /// Post a batch: this posting and the first of those waiting behind it.
        case lead
        /// Another leader posted it.
        case done(Result<PostedTransaction, any Error>)
    }

    private struct Waiter {
        let posting: Posting
        let continuation: CheckedContinuation<Turn, Never>
    }

    private struct State {
        var leaders = 0
        var waiting: [Waiter] = []
    }

    let concurrentBatches: Int
    let batchLimit: Int
    private let poster: Poster
    private let state = Mutex(State())

    init(concurrentBatches: Int, batchLimit: Int, poster: @escaping Poster) {
        precondition(concurrentBatches >= 1 && batchLimit >= 1)
        self.concurrentBatches = concurrentBatches
        self.batchLimit = batchLimit
        self.poster = poster
    }

    func post(_ posting: Posting, logger: Logger) async throws -> PostedTransaction {
        let turn = await withCheckedContinuation { (continuation: CheckedContinuation<Turn, Never>) in
            let leads = state.withLock { state in
                if state.leaders < concurrentBatches {
                    state.leaders += 1
                    return true
                }
                state.waiting.append(Waiter(posting: posting, continuation: continuation))
                return false
            }
            if leads { continuation.resume(returning: .lead) }
        }
        switch turn {
        case .done(let result):
            return try result.get()
        case .lead:
            return try await lead(with: posting, logger: logger).get()
        }
    }

    private func lead(with posting: Posting, logger: Logger) async -> Result<PostedTransaction, any Error> {
        let followers = state.withLock { state in Self.takeFollowers(of: posting, from: &state.waiting, limit: batchLimit - 1) }
        let poster = self.poster
        let batch = [posting] + followers.map(\.posting)
        // With followers, the batch runs in a task of its own: cancelling the leader's task must not fail their
        // postings. Alone, the posting runs in its caller's task, as it would without a combiner.
        var results = followers.isEmpty ? await poster(batch, logger) : await Task { await poster(batch, logger) }.value
        if results.count != batch.count {
            let error = LedgerError.invalidPosting("the batch answered \(results.count) of \(batch.count) postings")
            results = batch.map { _ in .failure(error) }
        }
        for (follower, result) in zip(followers, results.dropFirst()) { follower.continuation.resume(returning: .done(result)) }
        let next = state.withLock { state -> Waiter? in
            if state.waiting.isEmpty {
                state.leaders -= 1
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.continuation.resume(returning: .lead)
        return results[0]
    }

    /// Removes and returns the first waiters that can share `posting`'s batch: same Licensee, keys distinct.
    private static func takeFollowers(of posting: Posting, from waiting: inout [Waiter], limit: Int) -> [Waiter] {
        guard limit > 0, !waiting.isEmpty else { return [] }
        var keys: Set<String> = [posting.idempotencyKey]
        var taken: [Waiter] = []
        var left: [Waiter] = []
        for waiter in waiting {
            if taken.count < limit, waiter.posting.licenseeID == posting.licenseeID, keys.insert(waiter.posting.idempotencyKey).inserted {
                taken.append(waiter)
            } else {
                left.append(waiter)
            }
        }
        waiting = left
        return taken
    }
}
