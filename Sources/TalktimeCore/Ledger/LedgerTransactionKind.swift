/// Why money moved. Stored on every ledger transaction.
public enum LedgerTransactionKind: String, Sendable, CaseIterable, Codable {
    case topUp = "topup"
    case callCharge = "call_charge"
    case refund
    case dispute
    /// A dispute closed in the merchant's favour: the disputed money returns to the wallet.
    case disputeReversal = "dispute_reversal"
    case adjustment
    case promo
    case payout
    case payoutReversal = "payout_reversal"
}
