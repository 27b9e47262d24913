import Foundation

/// A ledger transaction as recorded: what `Ledger.post` returns, for the first posting and every replay.
public struct PostedTransaction: Sendable, Equatable {
    /// One account's entry, with the account's balance once it was applied.
    public struct Entry: Sendable, Equatable {
        public let accountID: UUID
        public let account: LedgerAccountRef
        public let amount: Int64
        public let balanceAfter: Int64
    }

    public let id: UUID
    public let kind: LedgerTransactionKind
    public let currency: String
    public let createdAt: Date
    public let entries: [Entry]
    /// True when the idempotency key had been posted before and this is that first result.
    public let replayed: Bool

    /// The entry for `account`, if the transaction touched it.
    public func entry(for account: LedgerAccountRef) -> Entry? { entries.first { $0.account == account } }
}
