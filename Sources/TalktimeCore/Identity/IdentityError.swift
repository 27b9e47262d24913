import Foundation

/// Why an identity operation was refused. The HTTP edge maps each to a status and a problem type.
public enum IdentityError: Error, Equatable {
    /// Wrong email or password, or an unknown or blocked account: deliberately one answer for all.
    case invalidCredentials
    /// A missing, expired, revoked or reused token.
    case invalidToken
    /// The caller may not do this.
    case forbidden
    /// An admin tried to block their own account.
    case cannotBlockSelf
    /// No such object in the caller's tenant (also what another tenant's object looks like).
    case notFound
    case emailTaken
    case passwordRejected(PasswordPolicy.Violation)
    case invalidInput(String)
    /// Too many failed logins for this account; retry after the given number of seconds.
    case tooManyFailedLogins(retryAfterSeconds: Int)
    /// The Licensee named by `X-Licensee` or the host does not exist.
    case unknownLicensee
}
