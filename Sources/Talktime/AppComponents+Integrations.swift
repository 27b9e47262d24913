import Foundation
import Logging
import TalktimeCore
import TalktimeIntegrations

/// The outside services behind the domain's protocols: Stripe, LiveKit and the push services, each over the
/// process-wide HTTP client, and the checks their webhooks must pass before anything in them is believed.
extension AppComponents {
    /// Stripe, over the process-wide HTTP client.
    static func paymentProvider(_ configuration: StripeConfiguration) -> any PaymentProvider {
        StripeClient(configuration: configuration)
    }

    /// Stripe's webhook signature check over the raw body, then the event's decoding: nothing is parsed before
    /// the signature holds.
    static func paymentWebhookVerifier(_ configuration: StripeConfiguration, now: @escaping @Sendable () -> Date)
        -> PaymentWebhookEndpoints.VerifyAndDecode
    {
        let verifier = StripeWebhookVerifier(secrets: configuration.webhookSecrets, tolerance: configuration.webhookTolerance)
        return { body, signature in
            try verifier.verify(payload: body, signatureHeader: signature, now: now())
            return try StripeEventDecoder.decode(body)
        }
    }

    /// LiveKit's server API and join tokens.
    static func callRoomProvider(_ configuration: CallConfiguration) -> any CallRoomProvider {
        LiveKitRoomService(configuration: configuration.liveKit)
    }

    /// LiveKit's webhook token (signature, expiry, the body's hash) checked with the secret of the key that
    /// signed it, then the event decoded: nothing is parsed before the token holds.
    static func roomWebhookVerifier(credentials: any CallRoomCredentialStore, now: @escaping @Sendable () -> Date)
        -> CallWebhookEndpoints.VerifyAndDecode
    {
        let verifier = LiveKitWebhookVerifier(
            secret: { apiKey, logger in try await credentials.secret(forAPIKey: apiKey, logger: logger) }, now: now)
        return { body, authorization, logger in try await verifier.verify(body: body, authorization: authorization, logger: logger) }
    }

    /// FCM for Android devices and APNs VoIP for iOS ones, with each Licensee's own credentials where it has
    /// them and the platform's (whichever are configured) elsewhere.
    static func pushNotifiers(_ configuration: PushConfiguration, accounts: LicenseePushAccounts) -> any PushNotifierDirectory {
        LicenseePushNotifiers(
            accounts: accounts, platform: PushDispatcher(fcm: configuration.fcm, apns: configuration.apns, httpClient: .shared),
            endpoints: configuration.endpoints, httpClient: .shared)
    }
}
