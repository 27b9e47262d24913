/// Why the ledger refused a posting. Nothing was written when one of these is thrown.
public enum LedgerError: Error, Sendable, Equatable {
    /// The posting would take an account that holds funds below zero.
    case insufficientFunds(account: LedgerAccountRef, balance: Int64)
    /// The idempotency key was used before for a different movement.
    case idempotencyKeyReused(key: String)
    /// The posting itself is malformed (a programming error, or input that slipped past validation).
    case invalidPosting(String)
}
