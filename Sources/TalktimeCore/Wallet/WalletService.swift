import Foundation
import Logging
import PostgresNIO

/// An End User's wallet as they and their Licensee's admins see it: the balance, its history, and the
/// adjustments admins make by hand. Money moves only through `Ledger`.
public struct WalletService: Sendable {
    public struct Wallet: Sendable, Equatable {
        public let balance: Int64
        public let currency: String
    }

    /// One movement of the wallet, newest first in lists.
    public struct Movement: Sendable, Equatable {
        /// The ledger transaction's id; also the cursor for the next page.
        public let id: UUID
        public let kind: LedgerTransactionKind
        /// Positive when money came in.
        public let amount: Int64
        public let balanceAfter: Int64
        public let currency: String
        public let createdAt: Date
    }

    public struct Page: Sendable, Equatable {
        public let movements: [Movement]
        public let hasMore: Bool
    }

    /// An admin's adjustment as recorded.
    public struct Adjustment: Sendable, Equatable {
        public let transactionID: UUID
        public let userID: UUID
        public let amount: Int64
        public let balance: Int64
        public let currency: String
        public let reason: String
        public let createdAt: Date
    }

    let database: Database
    let ledger: Ledger

    public init(database: Database, ledger: Ledger) {
        self.database = database
        self.ledger = ledger
    }

    /// The caller's own wallet; an End User who never topped up has a zero balance.
    public func wallet(of principal: Principal, logger: Logger) async throws -> Wallet {
        let licenseeID = try Self.endUser(principal)
        return try await database.withTransaction(principal.scope, logger: logger) { connection in
            let row = try await connection.query(
                """
                SELECT l.currency, coalesce(a.balance, 0)::int8
                FROM licensees l
                LEFT JOIN ledger_accounts a ON a.licensee_id = l.id AND a.kind = 'wallet' AND a.owner_id = \(principal.id) AND a.shard = 0
                WHERE l.id = \(licenseeID)
                """,
                logger: logger
            ).collect().first
            guard let (currency, balance) = try row?.decode((String, Int64).self) else { throw WalletError.userNotFound }
            return Wallet(balance: balance, currency: currency)
        }
    }

    /// The caller's wallet movements, newest first: at most `limit`, older than the movement `startingAfter`.
    public func movements(of principal: Principal, limit: Int, startingAfter: UUID?, logger: Logger) async throws -> Page {
        let licenseeID = try Self.endUser(principal)
        guard (1...100).contains(limit) else { throw WalletError.invalidInput("'limit' must lie between 1 and 100.") }
        return try await database.withTransaction(principal.scope, logger: logger) { connection in
            let account = try await connection.query(
                """
                SELECT id FROM ledger_accounts
                WHERE licensee_id = \(licenseeID) AND kind = 'wallet' AND owner_id = \(principal.id) AND shard = 0
                """,
                logger: logger
            ).collect().first?.decode(UUID.self)
            guard let account else {
                if startingAfter != nil { throw WalletError.unknownCursor }
                return Page(movements: [], hasMore: false)
            }
            var before = Int64.max
            if let startingAfter {
                let entry = try await connection.query(
                    "SELECT id FROM ledger_entries WHERE account_id = \(account) AND transaction_id = \(startingAfter)", logger: logger
                ).collect().first?.decode(Int64.self)
                guard let entry else { throw WalletError.unknownCursor }
                before = entry
            }
            let rows = try await connection.query(
                """
                SELECT t.id, t.kind, e.amount, e.balance_after, t.currency, t.created_at
                FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id
                WHERE e.account_id = \(account) AND e.id < \(before)
                ORDER BY e.id DESC
                LIMIT \(limit + 1)
                """,
                logger: logger)
            var movements: [Movement] = []
            for try await (id, kind, amount, balanceAfter, currency, createdAt) in rows.decode((UUID, String, Int64, Int64, String, Date).self) {
                guard let kind = LedgerTransactionKind(rawValue: kind) else { continue }
                movements.append(Movement(id: id, kind: kind, amount: amount, balanceAfter: balanceAfter, currency: currency, createdAt: createdAt))
            }
            let hasMore = movements.count > limit
            return Page(movements: Array(movements.prefix(limit)), hasMore: hasMore)
        }
    }

    /// A Licensee admin credits (positive) or debits (negative) an End User's wallet, with a reason, audited.
    /// A debit never takes the wallet below zero. The same `requestKey` again returns the first adjustment.
    public func adjust(
        userID: UUID, amount: Int64, reason: String, requestKey: String, by admin: Principal, logger: Logger
    ) async throws -> Adjustment {
        guard admin.role == .licenseeAdmin, let licenseeID = admin.licenseeID else { throw WalletError.forbidden }
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...500).contains(reason.unicodeScalars.count) else { throw WalletError.invalidInput("'reason' must have 1 to 500 characters.") }
        guard amount != 0, amount.magnitude <= 1_000_000_000_000 else {
            throw WalletError.invalidInput("'amount' must be non-zero and at most 10^12 minor units either way.")
        }
        let currency = try await database.withTransaction(admin.scope, logger: logger) { connection in
            let row = try await connection.query(
                """
                SELECT l.currency FROM users u JOIN licensees l ON l.id = u.licensee_id
                WHERE u.id = \(userID) AND u.licensee_id = \(licenseeID) AND u.role = 'end_user'
                """,
                logger: logger
            ).collect().first
            guard let currency = try row?.decode(String.self) else { throw WalletError.userNotFound }
            return currency
        }
        let posting = try Posting(
            licenseeID: licenseeID, currency: currency, kind: .adjustment,
            idempotencyKey: "adjustment:\(admin.id.uuidString.lowercased()):\(requestKey)",
            legs: [.init(.wallet(of: userID), amount), .init(.promotions, -amount)],
            metadata: ["reason": reason, "by": admin.id.uuidString.lowercased()])
        let posted: PostedTransaction
        do {
            posted = try await ledger.post(posting, logger: logger) { posted, connection in
                guard !posted.replayed else { return }
                try await AuditLog.record(
                    "wallet.adjusted", by: admin, target: ("user", userID.uuidString.lowercased()),
                    details: ["amount": String(amount), "currency": currency, "transaction_id": posted.id.uuidString.lowercased()],
                    on: connection, logger: logger)
            }
        } catch LedgerError.insufficientFunds(_, let balance) {
            throw WalletError.insufficientFunds(balance: balance)
        }
        return Adjustment(
            transactionID: posted.id, userID: userID, amount: amount, balance: posted.entry(for: .wallet(of: userID))?.balanceAfter ?? 0,
            currency: currency, reason: reason, createdAt: posted.createdAt)
    }

    /// The End User's Licensee; anyone else has no wallet.
    static func endUser(_ principal: Principal) throws -> UUID {
        guard principal.role == .endUser, !principal.isAPIKey, let licenseeID = principal.licenseeID else { throw WalletError.forbidden }
        return licenseeID
    }
}
