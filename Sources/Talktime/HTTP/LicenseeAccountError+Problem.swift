import Hummingbird
import TalktimeCore

extension LicenseeAccountError {
    /// How a refused own account (LiveKit project, push credentials) reads to a Licensee admin.
    var problem: Problem {
        switch self {
        case .secretsKeyMissing, .unreadable:
            Problem(
                status: .serviceUnavailable, type: ProblemType.secretsUnavailable, title: "Secrets cannot be stored",
                detail: "This server has no key to seal secrets with; your platform's operator can set one.")
        case .keyTaken:
            Problem(
                status: .conflict, type: ProblemType.keyTaken, title: "Key in use",
                detail: "This key belongs to another account here; use a key of your own.")
        case .invalid(let detail):
            .validation(detail)
        case .notFound:
            .notFound()
        }
    }
}
