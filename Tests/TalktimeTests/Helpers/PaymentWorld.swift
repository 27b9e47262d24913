import Foundation
import Hummingbird
import HummingbirdTesting
import TalktimeTestSupport
import Testing

@testable import Talktime

/// `IdentityWorld` with Stripe: the application talks to a fake Stripe on loopback and accepts webhooks signed
/// with `webhookSecret`.
struct PaymentWorld: Sendable {
    static let webhookSecret = "whsec_payment_world_secret_01"

    let world: IdentityWorld
    let stripe: FakeStripe

    var http: TestHTTP { world.http }

    static func run(_ overrides: [String: String] = [:], test body: @escaping @Sendable (PaymentWorld) async throws -> Void) async throws {
        try await FakeStripe.run { stripe in
            var environment = [
                "STRIPE_SECRET_KEY": stripe.secretKey,
                "STRIPE_API_BASE_URL": stripe.baseURL,
                "STRIPE_WEBHOOK_SECRETS": webhookSecret,
                "STRIPE_MAX_RETRIES": "1",
            ]
            environment.merge(overrides) { _, new in new }
            try await IdentityWorld.run(environment) { world in
                try await body(PaymentWorld(world: world, stripe: stripe))
            }
        }
    }

    /// Starts a top-up as the tenant's End User.
    func topUp(_ amount: Int64, key: String, tenant: IdentityWorld.Tenant? = nil) async throws -> TestHTTP.Reply {
        try await http.send(
            .post, "/v1/wallet/top-ups", json: ["amount": amount], token: (tenant ?? world.alpha).endUserToken, headers: [.idempotencyKey: key])
    }

    /// Posts a webhook body signed now with the configured secret (or `header` as given).
    func deliver(_ body: [UInt8], header: String? = nil) async throws -> TestHTTP.Reply {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let signature = header ?? Optional(StripeWebhookSigner.header(for: body, secrets: [Self.webhookSecret])) {
            headers[.stripeSignature] = signature
        }
        return try await http.send(.post, "/v1/webhooks/stripe", raw: body, headers: headers)
    }

    func balance(_ tenant: IdentityWorld.Tenant? = nil) async throws -> Int? {
        try await http.send(.get, "/v1/wallet", token: (tenant ?? world.alpha).endUserToken).json["balance"] as? Int
    }

    func count(_ sql: String) async throws -> Int {
        try await world.superuser(sql).first?.decode(Int.self) ?? -1
    }
}
