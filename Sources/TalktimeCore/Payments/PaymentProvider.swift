import Foundation
import Logging

/// The outside payment service that takes End Users' money (Stripe in production, a loopback fake in tests).
///
/// The domain asks it for one thing: a payment the End User's app then confirms. The wallet is credited only
/// when the provider's signed event says the payment succeeded (see `PaymentEvent`).
public protocol PaymentProvider: Sendable {
    /// Creates a payment for `request`. Retrying with the same `idempotencyKey` returns the same payment.
    ///
    /// - Throws: `PaymentProviderError`.
    func createPayment(_ request: PaymentRequest, idempotencyKey: String, logger: Logger) async throws -> CreatedPayment
}

/// What a top-up asks the provider to collect.
public struct PaymentRequest: Sendable, Equatable {
    /// Minor units of `currency`, always positive.
    public var amount: Int64
    /// ISO 4217, upper case (`EUR`).
    public var currency: String
    /// Names the top-up, so a provider's event can be matched to it; never personal data.
    public var metadata: [String: String]

    public init(amount: Int64, currency: String, metadata: [String: String]) {
        self.amount = amount
        self.currency = currency
        self.metadata = metadata
    }
}

/// The provider's payment: its id (a Stripe PaymentIntent id) and the secret the app confirms it with.
public struct CreatedPayment: Sendable, Equatable {
    public var id: String
    public var clientSecret: String
    public var status: String

    public init(id: String, clientSecret: String, status: String) {
        self.id = id
        self.clientSecret = clientSecret
        self.status = status
    }
}

/// Why the provider did not create a payment. Messages are the provider's, safe to show; never a key.
public enum PaymentProviderError: Error, Sendable, Equatable {
    /// The provider refused the request as invalid (Stripe 400/402/404): retrying will not help.
    case rejected(code: String?, message: String)
    /// Our credentials were refused (Stripe 401/403): an operator must fix the configuration.
    case notAuthorized
    /// The provider is unreachable, overloaded or failed after every retry.
    case unavailable(retryAfter: Duration?)
    /// No provider is configured (no secret key).
    case notConfigured
}
