import Foundation

/// How Talktime reaches Stripe: the API's base URL (a loopback fake in tests), the secret key, the pinned API
/// version, and the webhook signing secrets (several during a rotation).
public struct StripeConfiguration: Sendable {
    public var baseURL: String
    public var secretKey: String?
    public var apiVersion: String
    public var webhookSecrets: [String]
    /// Oldest webhook timestamp accepted, in seconds either side of now.
    public var webhookTolerance: Duration
    public var requestTimeout: Duration
    /// Retries after the first attempt, for 409, 429 and 5xx and network errors.
    public var maxRetries: Int

    public init(
        baseURL: String = "https://api.stripe.com", secretKey: String? = nil, apiVersion: String = "2024-06-20",
        webhookSecrets: [String] = [], webhookTolerance: Duration = .seconds(300), requestTimeout: Duration = .seconds(30),
        maxRetries: Int = 2
    ) {
        self.baseURL = baseURL
        self.secretKey = secretKey
        self.apiVersion = apiVersion
        self.webhookSecrets = webhookSecrets
        self.webhookTolerance = webhookTolerance
        self.requestTimeout = requestTimeout
        self.maxRetries = maxRetries
    }
}
