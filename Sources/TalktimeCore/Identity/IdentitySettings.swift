import Foundation

/// Lifetimes and limits of the identity flows.
public struct IdentitySettings: Sendable {
    /// A refresh token unused for this long expires.
    public var refreshIdleLifetime: Duration = .seconds(30 * 24 * 3600)
    /// A login session ends this long after the login, however active.
    public var refreshAbsoluteLifetime: Duration = .seconds(90 * 24 * 3600)
    public var invitationLifetime: Duration = .seconds(7 * 24 * 3600)
    public var passwordResetLifetime: Duration = .seconds(3600)
    public var loginThrottle = LoginThrottle.Settings()

    public init() {}
}
