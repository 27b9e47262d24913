/// Why a wallet request was refused. Nothing changed when one of these is thrown.
public enum WalletError: Error, Sendable, Equatable {
    /// The caller may not do this (wrong role, or an API key).
    case forbidden
    /// No such End User in the caller's Licensee.
    case userNotFound
    /// A page cursor (`starting_after`) that names no movement of the caller's wallet.
    case unknownCursor
    /// A top-up amount outside the Licensee's bounds.
    case amountOutOfBounds(minimum: Int64, maximum: Int64, currency: String)
    /// Input that cannot be right (a zero adjustment, a reason too long, an unknown cursor).
    case invalidInput(String)
    /// The debit would take the wallet below zero.
    case insufficientFunds(balance: Int64)
    /// The Licensee's licence is suspended or terminated: nobody may pay into it.
    case licenceInactive
    /// The payment provider refused, or could not be reached.
    case payment(PaymentProviderError)
}
