import Foundation
import Logging
import PostgresNIO

/// The one path every money movement takes.
///
/// `post` calls the SQL function `talktime_ledger_post` (migration 0003), which in one round trip:
/// 1. makes sure every account exists (`INSERT ... ON CONFLICT DO NOTHING`: `FOR UPDATE` locks nothing that is
///    not there);
/// 2. locks the accounts with `SELECT ... FOR UPDATE` in id order, the same order for every posting, so two
///    postings never wait on each other in a cycle;
/// 3. returns the first result if the key was posted before;
/// 4. checks the rules against the locked balances: a debit takes an account below zero only where
///    `Posting.mayOverdraw` allows it;
/// 5. writes the transaction, moves the balances and writes the entries with their balances after; the function
///    refuses legs that do not sum to zero, and the service role can write the ledger no other way.
/// One round trip matters: the locks of a hot wallet are held until commit, and every round trip while they are
/// held is time that every other charge of that wallet waits.
///
/// Postings that stand alone (`post(_:logger:)`) and arrive together are committed together by a
/// `PostingCombiner`: the ones that arrive while others are in flight are posted by `talktime_ledger_post_batch`
/// in one statement, each still its own ledger transaction under its own key.
public struct Ledger: Sendable {
    let database: Database
    private let combiner: PostingCombiner

    /// - Parameters:
    ///   - concurrentBatches: how many standalone postings or batches of them may be in flight at once.
    ///   - batchLimit: the most standalone postings committed together.
    public init(
        database: Database, concurrentBatches: Int = CombiningDefaults.concurrentBatches, batchLimit: Int = CombiningDefaults.batchLimit
    ) {
        self.database = database
        combiner = PostingCombiner(concurrentBatches: concurrentBatches, batchLimit: batchLimit) { postings, logger in
            await Self.postStandalone(postings, database: database, logger: logger)
        }
    }

    /// How standalone postings are combined unless told otherwise.
    public enum CombiningDefaults {
        public static let concurrentBatches = 2
        public static let batchLimit = 64
    }

    /// Posts `posting` as a transaction of its own, scoped to its Licensee: one statement, so one round trip,
    /// shared with the postings of the same Licensee that arrive while others are in flight.
    public func post(_ posting: Posting, logger: Logger) async throws -> PostedTransaction {
        try await combiner.post(posting, logger: logger)
    }

    /// Posts each of `postings` (one Licensee, keys distinct) as a transaction of its own: one alone, several as
    /// one batch statement. A posting the batch did not post (a replay, insufficient funds) or a batch that
    /// failed as a whole (a malformed posting, a lost connection) is posted again alone, which gives that caller
    /// the single path's exact answer: the replay compared with its posting, the account short of funds, its own
    /// error. Posting again is safe even if a lost batch committed: the keys make it a replay.
    private static func postStandalone(_ postings: [Posting], database: Database, logger: Logger) async
        -> [Result<PostedTransaction, any Error>]
    {
        // Together, the postings share the first one's shard of each sharded account: a batch then locks two hot
        // rows, not up to two per posting, and two batches in flight seldom wait for each other's commit.
        var together = postings
        if let shard = postings.first?.legs.first(where: { $0.account.kind.isSharded })?.account.shard {
            together = postings.map { $0.spread(onShard: shard) }
        }
        let results = postings.count > 1 ? await postTogether(together, database: database, logger: logger) : nil
        var answers: [Result<PostedTransaction, any Error>] = []
        for (index, posting) in postings.enumerated() {
            if let posted = results?[index].postedTransaction(of: together[index]) {
                answers.append(.success(posted))
            } else {
                answers.append(await postAlone(posting, database: database, logger: logger))
            }
        }
        return answers
    }

    private static func postTogether(_ postings: [Posting], database: Database, logger: Logger) async -> [BatchPostingResult]? {
        do {
            return try await database.withConnection(logger: logger) { connection in
                try await postBatch(postings, scope: true, on: connection, logger: logger)
            }
        } catch {
            logger.warning("postings committed together failed; posting each alone", metadata: ["error": "\(type(of: error))"])
            return nil
        }
    }

    private static func postAlone(_ posting: Posting, database: Database, logger: Logger) async -> Result<PostedTransaction, any Error> {
        do {
            return .success(
                try await database.withConnection(logger: logger) { connection in
                    try await call(posting, scope: true, on: connection, logger: logger)
                })
        } catch {
            return .failure(error)
        }
    }

    /// Posts `posting` in its own transaction, with `alongside` (an audit record, say) in the same transaction,
    /// told whether the posting was a replay.
    public func post(
        _ posting: Posting, logger: Logger, alongside: @Sendable (PostedTransaction, PostgresConnection) async throws -> Void
    ) async throws -> PostedTransaction {
        try await database.withTransaction(.licensee(posting.licenseeID), logger: logger) { connection in
            let posted = try await Self.call(posting, scope: false, on: connection, logger: logger)
            try await alongside(posted, connection)
            return posted
        }
    }

    /// Posts `posting` inside the caller's transaction, which must already be scoped to see its Licensee, so
    /// that it commits or rolls back with the caller's other writes.
    public func post(_ posting: Posting, on connection: PostgresConnection, logger: Logger) async throws -> PostedTransaction {
        try await Self.call(posting, scope: false, on: connection, logger: logger)
    }

    private static func call(_ posting: Posting, scope: Bool, on connection: PostgresConnection, logger: Logger) async throws
        -> PostedTransaction
    {
        let accounts = posting.legs.map(\.account)
        let kinds = accounts.map(\.kind.rawValue)
        let owners = accounts.map { $0.ownerID(licenseeID: posting.licenseeID) }
        let shards = accounts.map(\.shard)
        let amounts = posting.legs.map(\.amount)
        let mayOverdraw = accounts.map(posting.mayOverdraw)
        let metadata = String(decoding: try JSONEncoder().encode(posting.metadata), as: UTF8.self)
        let rows = try await connection.execute(
            PostStatement(
                scope: scope, licenseeID: posting.licenseeID, currency: posting.currency, kind: posting.kind.rawValue,
                key: posting.idempotencyKey, metadata: metadata, kinds: kinds, owners: owners, shards: shards, amounts: amounts,
                mayOverdraw: mayOverdraw),
            logger: logger)

        var outcome = ""
        var transactionID: UUID?
        var createdAt = Date()
        var kind = posting.kind
        var currency = posting.currency
        var entries: [PostedTransaction.Entry] = []
        for try await row in rows {
            let (rowOutcome, id, created, _, accountID, accountKind, owner, shard, amount, balance, transactionKind, rowCurrency) = row
            let account = try accountRef(kind: accountKind, owner: owner, shard: shard)
            if rowOutcome == "insufficient_funds" {
                throw LedgerError.insufficientFunds(account: account, balance: balance)
            }
            outcome = rowOutcome
            transactionID = id
            createdAt = created ?? createdAt
            kind = LedgerTransactionKind(rawValue: transactionKind) ?? kind
            currency = rowCurrency
            entries.append(.init(accountID: accountID, account: account, amount: amount, balanceAfter: balance))
        }
        guard let transactionID else { throw LedgerError.invalidPosting("the posting returned nothing") }
        let posted = PostedTransaction(
            id: transactionID, kind: kind, currency: currency, createdAt: createdAt, entries: entries, replayed: outcome == "replayed")
        if posted.replayed, !posted.matches(posting) { throw LedgerError.idempotencyKeyReused(key: posting.idempotencyKey) }
        return posted
    }

    static func accountRef(kind: String, owner: UUID, shard: Int16) throws -> LedgerAccountRef {
        guard let kind = LedgerAccountKind(rawValue: kind) else { throw LedgerError.invalidPosting("unknown account kind \(kind)") }
        return LedgerAccountRef(kind: kind, userID: kind.isPersonal ? owner : nil, shard: shard)
    }
}

/// The call of `talktime_ledger_post`, prepared once per connection: every charge sends only its values.
private struct PostStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT * FROM talktime_ledger_post($1, $2, $3, $4, $5, $6::jsonb, $7::text[], $8::uuid[], $9::int2[], $10::int8[], $11::boolean[])
        """
    typealias Row = (String, UUID?, Date?, Int32?, UUID, String, UUID, Int16, Int64, Int64, String, String)

    let scope: Bool
    let licenseeID: UUID
    let currency: String
    let kind: String
    let key: String
    let metadata: String
    let kinds: [String]
    let owners: [UUID]
    let shards: [Int16]
    let amounts: [Int64]
    let mayOverdraw: [Bool]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 11)
        bindings.append(scope)
        bindings.append(licenseeID)
        bindings.append(currency)
        bindings.append(kind)
        bindings.append(key)
        bindings.append(metadata)
        bindings.append(kinds)
        bindings.append(owners)
        bindings.append(shards)
        bindings.append(amounts)
        bindings.append(mayOverdraw)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

extension PostedTransaction {
    /// Whether `posting` asks for the movement this transaction recorded (same kind, currency, accounts and amounts).
    func matches(_ posting: Posting) -> Bool {
        guard kind == posting.kind, currency == posting.currency else { return false }
        // Shards aside: postings committed together share one shard of each sharded account.
        let recorded = Set(entries.map { "\($0.account.unsharded)=\($0.amount)" })
        let asked = Set(posting.legs.map { "\($0.account.unsharded)=\($0.amount)" })
        return recorded == asked
    }
}
