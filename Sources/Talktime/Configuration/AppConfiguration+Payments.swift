import Foundation
import TalktimeIntegrations

/// Stripe settings read from the environment. Without `STRIPE_SECRET_KEY` the service runs, and top-ups answer
/// 503; without `STRIPE_WEBHOOK_SECRETS` every webhook is rejected.
extension StripeConfiguration {
    init(values: ConfigurationValues) throws(ConfigurationError) {
        self.init()
        baseURL = try values.optional("stripe.api.base.url", default: baseURL) { text in
            guard let url = URLComponents(string: text), ["http", "https"].contains(url.scheme ?? ""), url.host != nil, url.query == nil
            else { return nil }
            return text.hasSuffix("/") ? String(text.dropLast()) : text
        }
        secretKey = try values.optional("stripe.secret.key") { text in
            text.hasPrefix("sk_") || text.hasPrefix("rk_") ? text : nil
        }
        apiVersion = try values.optional("stripe.api.version", default: apiVersion) { $0.isEmpty ? nil : $0 }
        webhookSecrets = try values.optional("stripe.webhook.secrets", default: []) { text in
            let secrets = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            return secrets.allSatisfy { $0.hasPrefix("whsec_") && $0.count >= 16 } ? secrets : nil
        }
        webhookTolerance = try values.optional("stripe.webhook.tolerance.seconds", default: webhookTolerance) {
            IdentityConfiguration.seconds($0, 1...3600)
        }
        requestTimeout = try values.optional("stripe.timeout.seconds", default: requestTimeout) { IdentityConfiguration.seconds($0, 1...120) }
        maxRetries = try values.optional("stripe.max.retries", default: maxRetries) { Int($0).flatMap { (0...10).contains($0) ? $0 : nil } }
    }
}
