import Hummingbird
import TalktimeCore

extension WalletError {
    /// How each wallet refusal reads to a client. Provider messages are passed on; keys never are.
    var problem: Problem {
        switch self {
        case .forbidden:
            .forbidden()
        case .userNotFound:
            .notFound()
        case .unknownCursor:
            Problem(status: .notFound, detail: "'starting_after' names no movement of this wallet.")
        case .amountOutOfBounds(let minimum, let maximum, let currency):
            Problem(
                status: .unprocessableContent, type: ProblemType.amountOutOfBounds, title: "Amount out of bounds",
                detail: "'amount' must lie between \(minimum) and \(maximum) minor units of \(currency).")
        case .invalidInput(let detail):
            .validation(detail)
        case .insufficientFunds(let balance):
            Problem(
                status: .unprocessableContent, type: ProblemType.insufficientFunds, title: "Insufficient funds",
                detail: "The wallet holds \(balance) minor units; a debit may not take it below zero.")
        case .licenceInactive:
            Problem(
                status: .forbidden, type: ProblemType.licenceInactive, title: "Licence inactive",
                detail: "This platform's licence is not active; payments are closed.")
        case .payment(.rejected(let code, let message)):
            Problem(
                status: .unprocessableContent, type: ProblemType.paymentRejected, title: "Payment rejected",
                detail: code.map { "\(message) (\($0))" } ?? message)
        case .payment(.unavailable(let retryAfter)):
            Problem(
                status: .serviceUnavailable, type: ProblemType.paymentUnavailable, title: "Payments unavailable",
                detail: "The payment provider could not be reached; retry with the same Idempotency-Key.",
                headers: [.retryAfter: String(max(1, Int((retryAfter ?? .seconds(5)).components.seconds)))])
        case .payment(.notAuthorized), .payment(.notConfigured):
            Problem(
                status: .serviceUnavailable, type: ProblemType.paymentUnavailable, title: "Payments unavailable",
                detail: "Payments are not available on this server at the moment.", headers: [.retryAfter: "60"])
        }
    }
}
