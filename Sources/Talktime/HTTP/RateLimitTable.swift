import TalktimeCore

/// Every rate limit, by route: the one table to read and to change. Policies keyed by client address are
/// applied before the handler runs; those keyed by account are applied by the handler once it has read the
/// account from the request.
enum RateLimitTable {
    static let policies: [String: [RateLimitPolicy]] = [
        "POST /v1/auth/login": [
            RateLimitPolicy(name: "login-ip", limit: 20, window: .seconds(60), key: .clientAddress),
            RateLimitPolicy(name: "login-account", limit: 10, window: .seconds(60), key: .account),
        ],
        "POST /v1/auth/register": [
            RateLimitPolicy(name: "register-ip", limit: 10, window: .seconds(3600), key: .clientAddress)
        ],
        "POST /v1/auth/refresh": [
            RateLimitPolicy(name: "refresh-ip", limit: 60, window: .seconds(60), key: .clientAddress)
        ],
        "POST /v1/auth/password-reset": [
            RateLimitPolicy(name: "reset-ip", limit: 10, window: .seconds(3600), key: .clientAddress),
            RateLimitPolicy(name: "reset-account", limit: 3, window: .seconds(3600), key: .account),
        ],
        "POST /v1/auth/password-reset/confirm": [
            RateLimitPolicy(name: "reset-confirm-ip", limit: 10, window: .seconds(3600), key: .clientAddress)
        ],
        "POST /v1/auth/invitations/accept": [
            RateLimitPolicy(name: "invitation-ip", limit: 10, window: .seconds(3600), key: .clientAddress)
        ],
        "POST /v1/auth/password": [
            RateLimitPolicy(name: "password-change-account", limit: 10, window: .seconds(3600), key: .account)
        ],
        "POST /v1/calls": [
            RateLimitPolicy(name: "call-start-user", limit: 20, window: .seconds(60), key: .caller)
        ],
        "GET /v1/calls/{id}/token": [
            RateLimitPolicy(name: "call-token-user", limit: 30, window: .seconds(60), key: .caller)
        ],
        "POST /v1/webhooks/livekit": [
            RateLimitPolicy(name: "livekit-webhook-ip", limit: 1200, window: .seconds(60), key: .clientAddress)
        ],
        "POST /v1/webhooks/stripe": [
            RateLimitPolicy(name: "stripe-webhook-ip", limit: 1200, window: .seconds(60), key: .clientAddress)
        ],
        // Each top-up that passes its checks creates a PaymentIntent at Stripe.
        "POST /v1/wallet/top-ups": [
            RateLimitPolicy(name: "top-up-user", limit: 10, window: .seconds(60), key: .caller)
        ],
    ]

    static func policies(for route: String, key: RateLimitPolicy.Key) -> [RateLimitPolicy] {
        (policies[route] ?? []).filter { $0.key == key }
    }
}
