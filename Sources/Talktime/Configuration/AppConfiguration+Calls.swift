import Foundation
import TalktimeCore
import TalktimeIntegrations

/// Calls: the platform's media-service (LiveKit) account and the timing of calls and billing. Without
/// `LIVEKIT_API_KEY` and `LIVEKIT_API_SECRET` the service runs and starting a call answers 503.
struct CallConfiguration: Sendable {
    /// The platform's own project; its server API at the client URL's host, or where `LIVEKIT_API_BASE_URL` says
    /// (an internal address, a loopback fake in tests).
    var room: CallRoomCredentials?
    var liveKit = LiveKitConfiguration()
    var settings = CallSettings()
    /// The hosts a Licensee's own LiveKit project may be on (each also allows its subdomains): the service calls
    /// that host's server API, so an admin must not be able to point it at an internal address.
    var licenseeHosts = ["livekit.cloud"]

    init(values: ConfigurationValues) throws(ConfigurationError) {
        let url = try values.optional("livekit.url", default: "ws://127.0.0.1:7880") { text in
            guard let url = URLComponents(string: text), ["ws", "wss", "http", "https"].contains(url.scheme ?? ""), url.host != nil
            else { return nil }
            return text.hasSuffix("/") ? String(text.dropLast()) : text
        }
        let key = try values.optional("livekit.api.key") { $0.isEmpty ? nil : $0 }
        let secret = try values.optional("livekit.api.secret") { $0 }
        // HS256 with a shorter secret is weak, and JWTKit's debug builds stop on it.
        if let secret, secret.count < 32 {
            throw ConfigurationError(variable: "LIVEKIT_API_SECRET", problem: "must have at least 32 characters")
        }
        switch (key, secret) {
        case (let key?, let secret?): room = CallRoomCredentials(serverURL: url, apiKey: key, apiSecret: secret)
        case (nil, nil): room = nil
        case (nil, _): throw ConfigurationError(variable: "LIVEKIT_API_KEY", problem: "must be set with LIVEKIT_API_SECRET")
        case (_, nil): throw ConfigurationError(variable: "LIVEKIT_API_SECRET", problem: "must be set with LIVEKIT_API_KEY")
        }
        room?.apiBaseURL = try values.optional("livekit.api.base.url") { text in
            guard let url = URLComponents(string: text), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else { return nil }
            return text.hasSuffix("/") ? String(text.dropLast()) : text
        }
        settings.ringTimeout = try values.optional("call.ring.timeout.seconds", default: settings.ringTimeout) {
            IdentityConfiguration.seconds($0, 5...300)
        }
        settings.joinTokenLifetime = try values.optional("call.token.ttl.seconds", default: settings.joinTokenLifetime) {
            IdentityConfiguration.seconds($0, 30...3600)
        }
        settings.billingBatchSize = try values.optional("billing.batch.size", default: settings.billingBatchSize) {
            Int($0).flatMap { (1...5000).contains($0) ? $0 : nil }
        }
        settings.billingConcurrency = try values.optional("billing.concurrency", default: settings.billingConcurrency) {
            Int($0).flatMap { (1...16).contains($0) ? $0 : nil }
        }
        settings.billingPollInterval = try values.optional("billing.poll.interval.ms", default: settings.billingPollInterval) {
            Int($0).flatMap { (10...60_000).contains($0) ? Duration.milliseconds($0) : nil }
        }
        settings.reconcileInterval = try values.optional("call.reconcile.interval.seconds", default: settings.reconcileInterval) {
            IdentityConfiguration.seconds($0, 10...3600)
        }
        settings.reconcileGrace = try values.optional("call.reconcile.grace.seconds", default: settings.reconcileGrace) {
            IdentityConfiguration.seconds($0, 5...600)
        }
        licenseeHosts = try values.optional("livekit.licensee.hosts", default: licenseeHosts) { text in
            let hosts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
            return hosts.allSatisfy { !$0.contains("/") && !$0.contains(":") && !$0.hasPrefix(".") } ? hosts : nil
        }
    }
}
