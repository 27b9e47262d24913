import Hummingbird
import TalktimeCore

extension CallRoomAccountError {
    /// How a refused media-service account reads to a Licensee admin.
    var problem: Problem {
        switch self {
        case .secretsKeyMissing:
            Problem(
                status: .serviceUnavailable, type: ProblemType.secretsUnavailable, title: "Secrets cannot be stored",
                detail: "This server has no key to seal secrets with; your platform's operator can set one.")
        case .apiKeyTaken:
            Problem(
                status: .conflict, type: ProblemType.apiKeyTaken, title: "API key in use",
                detail: "This LiveKit API key belongs to another account here; use a key of your own project.")
        case .invalid(let detail):
            .validation(detail)
        case .notFound:
            .notFound()
        }
    }
}
