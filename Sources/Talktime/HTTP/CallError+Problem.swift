import Hummingbird
import TalktimeCore

extension CallError {
    /// How each call refusal reads to a client: one problem type per refusal an app acts on differently.
    var problem: Problem {
        switch self {
        case .callNotFound, .advisorNotFound:
            .notFound()
        case .advisorNotAvailable:
            Problem(
                status: .conflict, type: ProblemType.advisorNotAvailable, title: "Advisor not available",
                detail: "The Advisor is offline or in another call.")
        case .alreadyInCall:
            Problem(status: .conflict, type: ProblemType.alreadyInCall, title: "Already in a call", detail: "End your current call first.")
        case .concurrentCallLimit(let limit):
            Problem(
                status: .tooManyRequests, type: ProblemType.concurrentCallLimit, title: "Too many calls",
                detail: "This platform allows \(limit) calls at once; try again shortly.", headers: [.retryAfter: "30"])
        case .insufficientFunds(let balance, let required):
            Problem(
                status: .init(code: 402, reasonPhrase: "Payment Required"), type: ProblemType.insufficientFunds, title: "Insufficient funds",
                detail: "The wallet holds \(balance) minor units; a call needs at least \(required).")
        case .licenceInactive:
            Problem(
                status: .forbidden, type: ProblemType.licenceInactive, title: "Licence inactive",
                detail: "This platform's licence is not active; calls are closed.")
        case .invalidState(let status):
            Problem(
                status: .conflict, type: ProblemType.callState, title: "Not possible in this state",
                detail: "The call is \(status.rawValue).")
        case .roomUnavailable:
            Problem(
                status: .serviceUnavailable, type: ProblemType.callsUnavailable, title: "Calls unavailable",
                detail: "The call service could not be reached; try again shortly.", headers: [.retryAfter: "5"])
        case .invalidChange(let detail):
            .validation(detail)
        }
    }
}
