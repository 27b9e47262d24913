import Foundation
import TalktimeIntegrations

/// Push notifications to Advisors' devices: FCM for Android, APNs VoIP for iOS. The platform's credentials serve
/// Licensees without their own; either may be absent, and a device of a platform without one gets no push (the
/// call still rings in an open app).
struct PushConfiguration: Sendable {
    var fcm: FCMConfiguration?
    var apns: APNsConfiguration?
    /// The services' addresses and limits, for the platform's credentials and Licensees' own alike.
    var endpoints = PushServiceEndpoints()

    init(values: ConfigurationValues) throws(ConfigurationError) {
        endpoints.requestTimeout = try values.optional("push.timeout.seconds", default: endpoints.requestTimeout) {
            IdentityConfiguration.seconds($0, 1...60)
        }
        endpoints.maxAttempts = try values.optional("push.max.attempts", default: endpoints.maxAttempts) {
            Int($0).flatMap { (1...10).contains($0) ? $0 : nil }
        }
        endpoints.fcmBaseURL = try values.optional("fcm.api.base.url", default: endpoints.fcmBaseURL) { $0 }
        endpoints.fcmTokenURI = try values.optional("fcm.token.uri", default: endpoints.fcmTokenURI) { $0 }
        endpoints.apnsBaseURL = try values.optional("apns.api.base.url", default: endpoints.apnsBaseURL) { $0 }
        let (timeout, attempts) = (endpoints.requestTimeout, endpoints.maxAttempts)

        if let account = try Self.secret("fcm.service.account.json", values: values) {
            let baseURL = endpoints.fcmBaseURL
            fcm = try Self.checked("FCM_SERVICE_ACCOUNT_JSON") { () throws(PushConfigurationError) in
                try FCMConfiguration(serviceAccountJSON: account, baseURL: baseURL, requestTimeout: timeout, maxAttempts: attempts)
            }
        }

        let keyID = try values.optional("apns.key.id") { $0 }
        let teamID = try values.optional("apns.team.id") { $0 }
        let bundleID = try values.optional("apns.bundle.id") { $0 }
        let key = try Self.secret("apns.private.key", values: values)
        switch (keyID, teamID, bundleID, key) {
        case (nil, nil, nil, nil):
            apns = nil
        case (let keyID?, let teamID?, let bundleID?, let key?):
            let baseURL = endpoints.apnsBaseURL
            apns = try Self.checked("APNS_PRIVATE_KEY") { () throws(PushConfigurationError) in
                try APNsConfiguration(
                    keyID: keyID, teamID: teamID, privateKeyPEM: key, bundleID: bundleID, baseURL: baseURL, requestTimeout: timeout,
                    maxAttempts: attempts)
            }
        default:
            throw ConfigurationError(
                variable: "APNS_KEY_ID", problem: "must be set with APNS_TEAM_ID, APNS_BUNDLE_ID and APNS_PRIVATE_KEY (or _FILE), or none of them")
        }
    }

    /// A secret given in the variable itself or, with `_FILE`, in a file (as container secrets are mounted).
    private static func secret(_ key: String, values: ConfigurationValues) throws(ConfigurationError) -> String? {
        if let text = try values.optional(key, parse: { $0 }) { return text }
        return try values.optional(key + ".file") { path in try String(contentsOfFile: path, encoding: .utf8) }
    }

    /// The configuration `make` builds, or its error named after `variable` (the error never quotes a key).
    private static func checked<Value>(_ variable: String, _ make: () throws(PushConfigurationError) -> Value) throws(ConfigurationError)
        -> Value
    {
        do {
            return try make()
        } catch {
            throw ConfigurationError(variable: variable, problem: "is unusable: \(error.description)")
        }
    }
}
