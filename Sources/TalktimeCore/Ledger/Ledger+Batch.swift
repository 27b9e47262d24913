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

extension Ledger {
    /// Posts `postings` inside the caller's transaction in one round trip, through `talktime_ledger_post_batch`
    /// (migration 0004), and returns one outcome per posting, in order.
    ///
    /// The postings are applied in order against the locked balances, so an earlier posting's credit is seen by
    /// a later one's check. Every account of the batch is locked, in id order, until the caller commits; a hot
    /// account is written once per batch. Keys must be unique within the batch.
    public static func postBatch(_ postings: [Posting], on connection: PostgresConnection, logger: Logger) async throws
        -> [BatchPostingOutcome]
    {
        guard !postings.isEmpty else { return [] }
        var statement = PostBatchStatement()
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
        var outcomes = [BatchPostingOutcome?](repeating: nil, count: postings.count)
        for try await (number, outcome, transactionID) in try await connection.execute(statement, logger: logger) {
            let index = Int(number) - 1
            guard outcomes.indices.contains(index) else { throw LedgerError.invalidPosting("the batch answered for posting \(number)") }
            switch (outcome, transactionID) {
            case ("posted", let id?): outcomes[index] = .posted(transactionID: id)
            case ("replayed", let id?): outcomes[index] = .replayed(transactionID: id)
            case ("insufficient_funds", _): outcomes[index] = .insufficientFunds
            default: throw LedgerError.invalidPosting("the batch answered \(outcome) for posting \(number)")
            }
        }
        return try outcomes.map { outcome in
            guard let outcome else { throw LedgerError.invalidPosting("the batch left a posting unanswered") }
            return outcome
        }
    }
}

/// The call of `talktime_ledger_post_batch`: postings as parallel arrays, legs as parallel arrays naming their
/// posting by its 1-based number.
private struct PostBatchStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT * FROM talktime_ledger_post_batch($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[], \
        $6::int4[], $7::text[], $8::uuid[], $9::int2[], $10::int8[], $11::boolean[])
        """
    typealias Row = (Int32, String, UUID?)

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
        var bindings = PostgresBindings(capacity: 11)
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
