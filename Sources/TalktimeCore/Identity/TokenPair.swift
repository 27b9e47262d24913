/// What login, refresh, registration and invitation acceptance answer with.
public struct TokenPair: Sendable, Equatable {
    public let accessToken: String
    /// Seconds until the access token expires.
    public let expiresIn: Int
    public let refreshToken: String
}
