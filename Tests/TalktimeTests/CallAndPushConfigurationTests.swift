import Configuration
import Foundation
import TalktimeTestSupport
import Testing

@testable import Talktime

/// The LiveKit and push variables: read when right, refused with the variable's name (and never its value)
/// when not.
@Suite struct CallAndPushConfigurationTests {
    let database = ["DATABASE_URL": "postgres://talktime_app@127.0.0.1/talktime"]

    func read(_ environment: [String: String]) throws(ConfigurationError) -> AppConfiguration {
        try AppConfiguration(
            reader: ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: database.merging(environment) { $1 })))
    }

    func refusal(_ environment: [String: String]) -> ConfigurationError? {
        do {
            _ = try read(environment)
            return nil
        } catch {
            return error
        }
    }

    @Test func callsAndPushAreOffUntilConfigured() throws {
        let configuration = try read([:])
        #expect(configuration.calls.room == nil)
        #expect(configuration.push.fcm == nil)
        #expect(configuration.push.apns == nil)
        #expect(configuration.calls.settings.ringTimeout == .seconds(30))
        #expect(configuration.calls.settings.reconcileGrace == .seconds(20))
        #expect(configuration.calls.settings.billingConcurrency == 2)
    }

    @Test func theBillingEnginesConcurrencyIsBounded() throws {
        #expect(try read(["BILLING_CONCURRENCY": "4"]).calls.settings.billingConcurrency == 4)
        for wrong in ["0", "17", "two"] {
            #expect(refusal(["BILLING_CONCURRENCY": wrong])?.variable == "BILLING_CONCURRENCY")
        }
    }

    @Test func liveKitNeedsKeyAndALongSecretTogether() throws {
        let secret = String(repeating: "s", count: 32)
        let configuration = try read([
            "LIVEKIT_URL": "wss://media.example.com", "LIVEKIT_API_KEY": "APIkey", "LIVEKIT_API_SECRET": secret,
            "LIVEKIT_API_BASE_URL": "http://livekit.internal:7880", "CALL_RING_TIMEOUT_SECONDS": "45",
            "CALL_RECONCILE_GRACE_SECONDS": "15",
        ])
        #expect(configuration.calls.room?.serverURL == "wss://media.example.com")
        #expect(configuration.calls.room?.apiBaseURL == "http://livekit.internal:7880")
        #expect(configuration.calls.settings.ringTimeout == .seconds(45))
        #expect(configuration.calls.settings.reconcileGrace == .seconds(15))
        #expect(refusal(["CALL_RECONCILE_GRACE_SECONDS": "2"])?.variable == "CALL_RECONCILE_GRACE_SECONDS")
        #expect(refusal(["LIVEKIT_API_KEY": "APIkey"])?.variable == "LIVEKIT_API_SECRET")
        #expect(refusal(["LIVEKIT_API_SECRET": secret])?.variable == "LIVEKIT_API_KEY")
        let short = refusal(["LIVEKIT_API_KEY": "APIkey", "LIVEKIT_API_SECRET": "tooShortValue1"])
        #expect(short?.variable == "LIVEKIT_API_SECRET")
        #expect(short?.problem == "must have at least 32 characters")
        #expect(short?.description.contains("tooShortValue1") == false)
        #expect(refusal(["LIVEKIT_URL": "ftp://media.example.com"])?.variable == "LIVEKIT_URL")
    }

    @Test func pushServicesFromValuesOrFiles() async throws {
        try await FakeFCM.run { fcm in
            try await FakeAPNs.run { apns in
                let file = FileManager.default.temporaryDirectory.appendingPathComponent("fcm-\(UUID().uuidString).json")
                try fcm.serviceAccountJSON.write(to: file, atomically: true, encoding: .utf8)
                defer { try? FileManager.default.removeItem(at: file) }
                let configuration = try read([
                    "FCM_SERVICE_ACCOUNT_JSON_FILE": file.path, "FCM_API_BASE_URL": fcm.baseURL,
                    "APNS_KEY_ID": apns.keyID, "APNS_TEAM_ID": apns.teamID, "APNS_BUNDLE_ID": apns.bundleID,
                    "APNS_PRIVATE_KEY": apns.privateKeyPEM, "APNS_API_BASE_URL": apns.baseURL, "PUSH_MAX_ATTEMPTS": "2",
                ])
                #expect(configuration.push.fcm?.projectID == fcm.projectID)
                #expect(configuration.push.fcm?.maxAttempts == 2)
                #expect(configuration.push.apns?.bundleID == apns.bundleID)
            }
        }
    }

    @Test func brokenPushSettingsStopTheServiceWithoutQuotingTheKey() async throws {
        try await FakeFCM.run { fcm in
            let broken = fcm.serviceAccountJSON.replacingOccurrences(of: "PRIVATE KEY-----\\n", with: "PRIVATE KEY-----\\nXX")
            let error = refusal(["FCM_SERVICE_ACCOUNT_JSON": broken])
            #expect(error?.variable == "FCM_SERVICE_ACCOUNT_JSON")
            #expect(error?.description.contains("BEGIN") == false)
            #expect(refusal(["FCM_SERVICE_ACCOUNT_JSON": "{not json"])?.variable == "FCM_SERVICE_ACCOUNT_JSON")
            #expect(refusal(["APNS_KEY_ID": "ABCDEFGHIJ"])?.variable == "APNS_KEY_ID")
            #expect(refusal(["FCM_SERVICE_ACCOUNT_JSON_FILE": "/nonexistent/key.json"])?.variable == "FCM_SERVICE_ACCOUNT_JSON_FILE")
        }
    }
}
