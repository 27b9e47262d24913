import HTTPTypes

/// The header names Talktime reads or writes beyond the standard set.
extension HTTPField.Name {
    static let requestID = Self("X-Request-Id")!
    static let xForwardedFor = Self("X-Forwarded-For")!
    static let xLicensee = Self("X-Licensee")!
    static let rateLimitPolicy = Self("RateLimit-Policy")!
    static let rateLimit = Self("RateLimit")!
    static let idempotencyKey = Self("Idempotency-Key")!
    /// Set on a response replayed for a repeated Idempotency-Key, as Stripe does.
    static let idempotentReplayed = Self("Idempotent-Replayed")!
    static let stripeSignature = Self("Stripe-Signature")!
}
