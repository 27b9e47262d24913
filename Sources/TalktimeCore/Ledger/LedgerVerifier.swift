import Foundation
import Logging
import PostgresNIO

/// Checks the whole ledger after the fact, across every Licensee: what `talktime ledger verify` runs.
///
/// Each check is one query that lists what is wrong, so a healthy ledger prints nothing but the counts.
public struct LedgerVerifier: Sendable {
    /// What was checked, and every problem found.
    public struct Report: Sendable {
        public var transactions = 0
        public var entries = 0
        public var accounts = 0
        public var problems: [String] = []

        public var isHealthy: Bool { problems.isEmpty }
    }

    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func verify(logger: Logger) async throws -> Report {
        // One repeatable-read snapshot, so postings committed while the checks run cannot make them disagree.
        try await database.withConnection(logger: logger) { connection in
            try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            do {
                try await Database.apply(.platform, on: connection, logger: logger)
                let report = try await check(on: connection, logger: logger)
                try await connection.query("COMMIT", logger: logger)
                return report
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    private func check(on connection: PostgresConnection, logger: Logger) async throws -> Report {
        var report = Report()
        let counts = try await connection.query(
            """
            SELECT (SELECT count(*) FROM ledger_transactions), (SELECT count(*) FROM ledger_entries),
                   (SELECT count(*) FROM ledger_accounts)
            """,
            logger: logger
        ).collect().first!.decode((Int64, Int64, Int64).self)
        (report.transactions, report.entries, report.accounts) = (Int(counts.0), Int(counts.1), Int(counts.2))

        // The ledger's tables carry no foreign keys on their write path (migration 0005): the references are
        // checked here instead.
        let dangling = try await connection.query(
            """
            SELECT 'entry ' || e.id || ': its transaction ' || e.transaction_id || ' is '
                   || CASE WHEN t.id IS NULL THEN 'missing' ELSE 'of another Licensee' END
            FROM ledger_entries e LEFT JOIN ledger_transactions t ON t.id = e.transaction_id
            WHERE t.id IS NULL OR t.licensee_id <> e.licensee_id
            UNION ALL
            SELECT 'entry ' || e.id || ': its account ' || e.account_id || ' is '
                   || CASE WHEN a.id IS NULL THEN 'missing' ELSE 'of another Licensee' END
            FROM ledger_entries e LEFT JOIN ledger_accounts a ON a.id = e.account_id
            WHERE a.id IS NULL OR a.licensee_id <> e.licensee_id
            UNION ALL
            SELECT 'transaction ' || t.id || ': its Licensee ' || t.licensee_id || ' is missing'
            FROM ledger_transactions t WHERE NOT EXISTS (SELECT 1 FROM licensees l WHERE l.id = t.licensee_id)
            """,
            logger: logger)
        for try await problem in dangling.decode(String.self) { report.problems.append(problem) }

        let unbalanced = try await connection.query(
            """
            SELECT t.id, coalesce(sum(e.amount), 0)::int8, count(e.id),
                   count(*) FILTER (WHERE a.currency <> t.currency)
            FROM ledger_transactions t
            LEFT JOIN ledger_entries e ON e.transaction_id = t.id
            LEFT JOIN ledger_accounts a ON a.id = e.account_id
            GROUP BY t.id
            HAVING coalesce(sum(e.amount), 0) <> 0 OR count(e.id) < 2 OR count(*) FILTER (WHERE a.currency <> t.currency) > 0
            ORDER BY t.id
            """,
            logger: logger)
        for try await (id, sum, entries, foreign) in unbalanced.decode((UUID, Int64, Int64, Int64).self) {
            report.problems.append(
                "transaction \(id.uuidString.lowercased()): entries sum to \(sum) over \(entries) entries, \(foreign) in another currency")
        }

        let drifted = try await connection.query(
            """
            SELECT a.id, a.kind, a.balance, coalesce(sum(e.amount), 0)::int8
            FROM ledger_accounts a LEFT JOIN ledger_entries e ON e.account_id = a.id
            GROUP BY a.id
            HAVING a.balance <> coalesce(sum(e.amount), 0)
            ORDER BY a.id
            """,
            logger: logger)
        for try await (id, kind, balance, sum) in drifted.decode((UUID, String, Int64, Int64).self) {
            report.problems.append("account \(id.uuidString.lowercased()) (\(kind)): balance \(balance), but its entries sum to \(sum)")
        }

        // Replays each account's history in entry order: every recorded balance_after must be the running sum,
        // and no account holding funds may have gone below zero except a wallet through a refund or dispute.
        let history = try await connection.query(
            """
            SELECT account_id, kind, entry_id, transaction_kind, running, balance_after
            FROM (
                SELECT e.account_id, a.kind, e.id AS entry_id, t.kind AS transaction_kind, e.amount, e.balance_after,
                       sum(e.amount) OVER (PARTITION BY e.account_id ORDER BY e.id)::int8 AS running
                FROM ledger_entries e
                JOIN ledger_accounts a ON a.id = e.account_id
                JOIN ledger_transactions t ON t.id = e.transaction_id
            ) h
            WHERE running <> balance_after
               OR (amount < 0 AND running < 0
                   AND kind IN ('wallet', 'advisor_earnings', 'licensee_earnings', 'platform_revenue')
                   AND NOT (kind = 'wallet' AND transaction_kind IN ('refund', 'dispute')))
            ORDER BY account_id, entry_id
            """,
            logger: logger)
        for try await (accountID, kind, entryID, transactionKind, running, balanceAfter) in history.decode(
            (UUID, String, Int64, String, Int64, Int64).self)
        {
            if running != balanceAfter {
                report.problems.append(
                    "account \(accountID.uuidString.lowercased()) (\(kind)): entry \(entryID) records balance \(balanceAfter), the running sum is \(running)"
                )
            } else {
                report.problems.append(
                    "account \(accountID.uuidString.lowercased()) (\(kind)): entry \(entryID) (\(transactionKind)) took it to \(running), below zero")
            }
        }
        return report
    }
}
