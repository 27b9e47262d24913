import Foundation
import Logging
import PostgresNIO

/// What became of one posting of a batch.
public enum BatchPostingOutcome: Sendable, Equatable {
    case posted(transactionID: UUID)
    /// Its key was posted before; nothing changed. (Unlike `Ledger.post`, a batch does not compare the earlier
    /// movement with this one: its callers derive keys and amounts from the same record every time.)
    case replayed(transactionID: UUID)
    /// A debit would have taken an account below zero; nothing changed.
    case insufficientFunds
}

/// One posting's answer from `talktime_ledger_post_batch`: its outcome and, when posted, what `Ledger.post` returns.
struct BatchPostingResult: Sendable {
    let outcome: BatchPostingOutcome
    let createdAt: Date
    /// For a posted posting: each leg's account and its balance after, in the order of the posting's legs.
    let accounts: [UUID]
    let balancesAfter: [Int64]

    /// The transaction `posting` became, when this result says it was posted.
    func postedTransaction(of posting: Posting) -> PostedTransaction? {
        guard case .posted(let id) = outcome, accounts.count == posting.legs.count, balancesAfter.count == posting.legs.count else {
            return nil
        }
        let entries = zip(posting.legs, zip(accounts, balancesAfter)).map { leg, account in
            PostedTransaction.Entry(accountID: account.0, account: leg.account, amount: leg.amount, balanceAfter: account.1)
        }
        return PostedTransaction(
            id: id, kind: posting.kind, currency: posting.currency, createdAt: createdAt, entries: entries, replayed: false)
    }
}

extension Ledger {
    /// Posts `postings` inside the caller's transaction in one round trip, through `talktime_ledger_post_batch`
    /// (migrations 0004 and 0014), and returns one outcome per posting, in order.
    ///
    /// The postings are applied in order against the locked balances, so an earlier posting's credit is seen by
    /// a later one's check. Every account of the batch is locked, in id order, until the caller commits; a hot
    /// account is written once per batch. Keys must be unique within the batch.
    public static func postBatch(_ postings: [Posting], on connection: PostgresConnection, logger: Logger) async throws
        -> [BatchPostingOutcome]
    {
        try await postBatch(postings, scope: false, on: connection, logger: logger).map(\.outcome)
    }

    /// `postBatch`, answering with each posted posting's entries. With `scope`, the postings (all of one Licensee)
    /// are posted as a statement of their own, outside any explicit transaction, scoped to their Licensee.
    static func postBatch(_ postings: [Posting], scope: Bool, on connection: PostgresConnection, logger: Logger) async throws
        -> [BatchPostingResult]
    {
        guard !postings.isEmpty else { return [] }
        var statement = PostBatchStatement(scope: scope)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        for (index, posting) in postings.enumerated() {
            statement.licensees.append(posting.licenseeID)
            statement.currencies.append(posting.currency)
            statement.kinds.append(posting.kind.rawValue)
            statement.keys.append(posting.idempotencyKey)
            statement.metadata.append(String(decoding: try encoder.encode(posting.metadata), as: UTF8.self))
            for leg in posting.legs {
                statement.legPostings.append(Int32(index + 1))
                statement.legKinds.append(leg.account.kind.rawValue)
                statement.legOwners.append(leg.account.ownerID(licenseeID: posting.licenseeID))
                statement.legShards.append(leg.account.shard)
                statement.legAmounts.append(leg.amount)
                statement.legMayOverdraw.append(posting.mayOverdraw(leg.account))
            }
        }
        var results = [BatchPostingResult?](repeating: nil, count: postings.count)
        let rows = try await connection.execute(statement, logger: logger)
        for try await (number, outcomeName, transactionID, createdAt, accounts, balancesAfter) in rows {
            let index = Int(number) - 1
            guard results.indices.contains(index) else { throw LedgerError.invalidPosting("the batch answered for posting \(number)") }
            let outcome: BatchPostingOutcome
            switch (outcomeName, transactionID) {
            case ("posted", let id?): outcome = .posted(transactionID: id)
            case ("replayed", let id?): outcome = .replayed(transactionID: id)
            case ("insufficient_funds", _): outcome = .insufficientFunds
            default: throw LedgerError.invalidPosting("the batch answered \(outcomeName) for posting \(number)")
            }
            results[index] = BatchPostingResult(
                outcome: outcome, createdAt: createdAt, accounts: accounts ?? [], balancesAfter: balancesAfter ?? [])
        }
        return try results.map { result in
            guard let result else { throw LedgerError.invalidPosting("the batch left a posting unanswered") }
            return result
        }
    }
}

/// The call of `talktime_ledger_post_batch`: postings as parallel arrays, legs as parallel arrays naming their
/// posting by its 1-based number.
private struct PostBatchStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT * FROM talktime_ledger_post_batch($1, $2::uuid[], $3::text[], $4::text[], $5::text[], $6::jsonb[], \
        $7::int4[], $8::text[], $9::uuid[], $10::int2[], $11::int8[], $12::boolean[])
        """
    typealias Row = (Int32, String, UUID?, Date, [UUID]?, [Int64]?)

    let scope: Bool
    var licensees: [UUID] = []
    var currencies: [String] = []
    var kinds: [String] = []
    var keys: [String] = []
    var metadata: [String] = []
    var legPostings: [Int32] = []
    var legKinds: [String] = []
    var legOwners: [UUID] = []
    var legShards: [Int16] = []
    var legAmounts: [Int64] = []
    var legMayOverdraw: [Bool] = []

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 12)
        bindings.append(scope)
        bindings.append(licensees)
        bindings.append(currencies)
        bindings.append(kinds)
        bindings.append(keys)
        bindings.append(metadata)
        bindings.append(legPostings)
        bindings.append(legKinds)
        bindings.append(legOwners)
        bindings.append(legShards)
        bindings.append(legAmounts)
        bindings.append(legMayOverdraw)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}
