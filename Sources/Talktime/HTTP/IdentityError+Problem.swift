import Hummingbird
import TalktimeCore

extension IdentityError {
    /// How each identity refusal reads to a client. Credentials and tokens fail with one answer each, whatever
    /// the reason, so that no response tells an attacker which part was wrong.
    var problem: Problem {
        switch self {
        case .invalidCredentials:
            Problem(
                status: .unauthorized, type: ProblemType.invalidCredentials, title: "Invalid credentials",
                detail: "The email or password is wrong.")
        case .invalidToken:
            Problem(
                status: .unauthorized, type: ProblemType.invalidToken, title: "Invalid token",
                detail: "The token is invalid, expired or revoked.", headers: [.wwwAuthenticate: "Bearer error=\"invalid_token\""])
        case .forbidden:
            .forbidden()
        case .cannotBlockSelf:
            Problem(status: .forbidden, type: ProblemType.forbidden, detail: "An admin cannot block or unblock their own account.")
        case .notFound:
            .notFound()
        case .emailTaken:
            Problem(status: .conflict, type: ProblemType.emailTaken, title: "Email taken", detail: "An account with this email already exists.")
        case .passwordRejected(let violation):
            Problem(status: .unprocessableContent, type: ProblemType.passwordRejected, title: "Password rejected", detail: violation.description)
        case .invalidInput(let detail):
            .validation(detail)
        case .tooManyFailedLogins(let seconds):
            Problem(
                status: .tooManyRequests, type: ProblemType.rateLimited, title: "Too many failed logins",
                detail: "This account has had too many failed logins; retry later.", headers: [.retryAfter: String(seconds)])
        case .unknownLicensee:
            Problem(
                status: .notFound, type: ProblemType.unknownLicensee, title: "Unknown Licensee", detail: "No Licensee answers to this name or host.")
        }
    }
}
