import Foundation
import Logging
import PostgresNIO

/// The one path every money movement takes.
///
/// `post` runs, inside one database transaction:
/// 1. make sure every account exists (`INSERT ... ON CONFLICT DO NOTHING`: `FOR UPDATE` locks nothing that is
///    not there);
/// 2. lock the accounts with `SELECT ... FOR UPDATE` in id order, the same order for every posting, so two
///    postings never wait on each other in a cycle; the same statement finds an earlier posting of the key;
/// 3. check the rules against the locked balances;
/// 4. write the transaction and its entries in one statement; the entry trigger moves each balance.
/// A key posted before returns that first result and changes nothing.
public struct Ledger: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Posts `posting` in its own transaction, scoped to its Licensee; `alongside` runs in the same transaction
    /// after the posting (an audit record, say), and is told whether the posting was a replay.
    public func post(
        _ posting: Posting, logger: Logger,
        alongside: @Sendable (PostedTransaction, PostgresConnection) async throws -> Void = { _, _ in }
    ) async throws -> PostedTransaction {
        // Two postings of one key can both find it absent and both lock; the second to write then fails on the
        // key's unique index and, run again, finds the first.
        for attempt in 1...3 {
            do {
                return try await database.withTransaction(.licensee(posting.licenseeID), logger: logger) { connection in
                    let posted = try await post(posting, on: connection, logger: logger)
                    try await alongside(posted, connection)
                    return posted
                }
            } catch let error as PSQLError where error.isUniqueViolation(of: "ledger_transactions_licensee_id_idempotency_key_key") && attempt < 3 {
                continue
            }
        }
        preconditionFailure("unreachable: the last attempt rethrows")
    }

    /// Posts `posting` inside the caller's transaction (which must be scoped to see its Licensee), so that it
    /// commits or rolls back with the caller's other writes.
    public func post(_ posting: Posting, on connection: PostgresConnection, logger: Logger) async throws -> PostedTransaction {
        let accounts = posting.legs.map(\.account)
        let kinds = accounts.map(\.kind.rawValue)
        let owners = accounts.map { $0.ownerID(licenseeID: posting.licenseeID) }
        let shards = accounts.map(\.shard)

        try await connection.query(
            """
            INSERT INTO ledger_accounts (licensee_id, kind, owner_id, shard, currency)
            SELECT \(posting.licenseeID), a.kind, a.owner_id, a.shard, \(posting.currency)
            FROM unnest(\(kinds)::text[], \(owners)::uuid[], \(shards)::int2[]) AS a(kind, owner_id, shard)
            ORDER BY a.kind, a.owner_id, a.shard
            ON CONFLICT DO NOTHING
            """,
            logger: logger)

        let rows = try await connection.query(
            """
            SELECT a.id, a.kind, a.owner_id, a.shard, a.balance, a.currency,
                   (SELECT t.id FROM ledger_transactions t
                    WHERE t.licensee_id = \(posting.licenseeID) AND t.idempotency_key = \(posting.idempotencyKey)) AS earlier
            FROM ledger_accounts a
            JOIN unnest(\(kinds)::text[], \(owners)::uuid[], \(shards)::int2[]) AS w(kind, owner_id, shard)
              ON a.licensee_id = \(posting.licenseeID) AND a.kind = w.kind AND a.owner_id = w.owner_id AND a.shard = w.shard
            ORDER BY a.id
            FOR UPDATE OF a
            """,
            logger: logger)
        var locked: [LedgerAccountRef: (id: UUID, balance: Int64, currency: String)] = [:]
        var earlier: UUID?
        for try await (id, kind, owner, shard, balance, currency, earlierID) in rows.decode(
            (UUID, String, UUID, Int16, Int64, String, UUID?).self)
        {
            let ref = try Self.accountRef(kind: kind, owner: owner, shard: shard, licenseeID: posting.licenseeID)
            locked[ref] = (id, balance, currency)
            earlier = earlierID
        }
        if let earlier {
            let original = try await Self.transaction(earlier, licenseeID: posting.licenseeID, on: connection, logger: logger)
            guard original.matches(posting) else { throw LedgerError.idempotencyKeyReused(key: posting.idempotencyKey) }
            return original
        }

        var accountIDs: [UUID] = []
        var amounts: [Int64] = []
        for leg in posting.legs {
            guard let account = locked[leg.account] else {
                throw LedgerError.invalidPosting("account \(leg.account) could not be created")
            }
            guard account.currency == posting.currency else {
                throw LedgerError.invalidPosting("account \(leg.account) is in \(account.currency), the posting in \(posting.currency)")
            }
            let (after, overflow) = account.balance.addingReportingOverflow(leg.amount)
            if overflow { throw LedgerError.invalidPosting("the balance of \(leg.account) would overflow") }
            if leg.amount < 0, after < 0, !posting.mayOverdraw(leg.account) {
                throw LedgerError.insufficientFunds(account: leg.account, balance: account.balance)
            }
            accountIDs.append(account.id)
            amounts.append(leg.amount)
        }

        let metadata = String(decoding: try JSONEncoder().encode(posting.metadata), as: UTF8.self)
        let written = try await connection.query(
            """
            WITH t AS (
                INSERT INTO ledger_transactions (licensee_id, kind, idempotency_key, currency, metadata)
                VALUES (\(posting.licenseeID), \(posting.kind.rawValue), \(posting.idempotencyKey), \(posting.currency), \(metadata)::jsonb)
                RETURNING id, created_at
            ), e AS (
                INSERT INTO ledger_entries (licensee_id, transaction_id, account_id, amount, balance_after)
                SELECT \(posting.licenseeID), t.id, x.account_id, x.amount, 0
                FROM t, unnest(\(accountIDs)::uuid[], \(amounts)::int8[]) WITH ORDINALITY AS x(account_id, amount, n)
                ORDER BY x.n
                RETURNING account_id, balance_after
            )
            SELECT t.id, t.created_at, e.account_id, e.balance_after FROM t, e
            """,
            logger: logger)
        var transactionID: UUID?
        var createdAt = Date()
        var balances: [UUID: Int64] = [:]
        for try await (id, created, accountID, balanceAfter) in written.decode((UUID, Date, UUID, Int64).self) {
            transactionID = id
            createdAt = created
            balances[accountID] = balanceAfter
        }
        guard let transactionID else { throw LedgerError.invalidPosting("the transaction was not written") }
        let entries = zip(posting.legs, accountIDs).map { leg, accountID in
            PostedTransaction.Entry(accountID: accountID, account: leg.account, amount: leg.amount, balanceAfter: balances[accountID] ?? 0)
        }
        return PostedTransaction(
            id: transactionID, kind: posting.kind, currency: posting.currency, createdAt: createdAt, entries: entries, replayed: false)
    }

    /// A recorded transaction with its entries, as first posted.
    static func transaction(_ id: UUID, licenseeID: UUID, on connection: PostgresConnection, logger: Logger) async throws
        -> PostedTransaction
    {
        let rows = try await connection.query(
            """
            SELECT t.kind, t.currency, t.created_at, e.account_id, a.kind, a.owner_id, a.shard, e.amount, e.balance_after
            FROM ledger_transactions t
            JOIN ledger_entries e ON e.transaction_id = t.id
            JOIN ledger_accounts a ON a.id = e.account_id
            WHERE t.id = \(id) AND t.licensee_id = \(licenseeID)
            ORDER BY e.id
            """,
            logger: logger)
        var kind = LedgerTransactionKind.adjustment
        var currency = ""
        var createdAt = Date()
        var entries: [PostedTransaction.Entry] = []
        for try await (transactionKind, transactionCurrency, created, accountID, accountKind, owner, shard, amount, balanceAfter) in rows.decode(
            (String, String, Date, UUID, String, UUID, Int16, Int64, Int64).self)
        {
            kind = LedgerTransactionKind(rawValue: transactionKind) ?? .adjustment
            currency = transactionCurrency
            createdAt = created
            let ref = try accountRef(kind: accountKind, owner: owner, shard: shard, licenseeID: licenseeID)
            entries.append(.init(accountID: accountID, account: ref, amount: amount, balanceAfter: balanceAfter))
        }
        return PostedTransaction(id: id, kind: kind, currency: currency, createdAt: createdAt, entries: entries, replayed: true)
    }

    static func accountRef(kind: String, owner: UUID, shard: Int16, licenseeID: UUID) throws -> LedgerAccountRef {
        guard let kind = LedgerAccountKind(rawValue: kind) else { throw LedgerError.invalidPosting("unknown account kind \(kind)") }
        return LedgerAccountRef(kind: kind, userID: kind.isPersonal ? owner : nil, shard: shard)
    }
}

extension PostedTransaction {
    /// Whether `posting` asks for the movement this transaction recorded (same kind, accounts and amounts).
    func matches(_ posting: Posting) -> Bool {
        guard kind == posting.kind, currency == posting.currency else { return false }
        let recorded = Set(entries.map { "\($0.account)=\($0.amount)" })
        let asked = Set(posting.legs.map { "\($0.account)=\($0.amount)" })
        return recorded == asked
    }
}

extension PSQLError {
    /// Whether this is a unique violation of the named constraint.
    func isUniqueViolation(of constraint: String) -> Bool {
        code == .server && serverInfo?[.sqlState] == "23505" && serverInfo?[.constraintName] == constraint
    }
}
