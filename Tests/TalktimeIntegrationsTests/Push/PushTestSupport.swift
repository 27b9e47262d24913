import Foundation
import Logging
import TalktimeCore
import TalktimeTestSupport

@testable import TalktimeIntegrations

/// What the push tests share: a ring, devices, notifiers pointed at the fakes, and a check that nothing secret
/// was written anywhere.
enum PushTestSupport {
    static let ring = PushMessage(
        type: "incoming_call", data: ["call_id": "6f1c2a9e-0d4b-4a57-9a3e-2b8f5c7d1e40", "caller_name": "Ada"], timeToLive: .seconds(30),
        collapseKey: "6f1c2a9e-0d4b-4a57-9a3e-2b8f5c7d1e40")

    static func androidDevice(_ token: String = "fcm-" + UUID().uuidString) -> PushDevice {
        PushDevice(id: UUID(), platform: .android, token: token)
    }

    /// 32 random bytes in hex, as PushKit hands out.
    static func iosDevice(_ token: String = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()) -> PushDevice {
        PushDevice(id: UUID(), platform: .ios, token: token)
    }

    static func fcm(
        _ fake: FakeFCM, clock: TestClock? = nil, timeout: Duration = .seconds(5), attempts: Int = 3
    ) throws -> FCMNotifier {
        let configuration = try FCMConfiguration(
            serviceAccountJSON: fake.serviceAccountJSON, baseURL: fake.baseURL, requestTimeout: timeout, maxAttempts: attempts)
        return FCMNotifier(configuration: configuration, baseRetryDelay: .milliseconds(1), now: clock?.read ?? Date.init)
    }

    static func apnsConfiguration(_ fake: FakeAPNs, timeout: Duration = .seconds(5), attempts: Int = 3) throws -> APNsConfiguration {
        try APNsConfiguration(
            keyID: fake.keyID, teamID: fake.teamID, privateKeyPEM: fake.privateKeyPEM, bundleID: fake.bundleID, baseURL: fake.baseURL,
            requestTimeout: timeout, maxAttempts: attempts)
    }

    static func apns(_ fake: FakeAPNs, clock: TestClock? = nil, timeout: Duration = .seconds(5), attempts: Int = 3) throws -> APNsNotifier {
        APNsNotifier(
            configuration: try apnsConfiguration(fake, timeout: timeout, attempts: attempts), baseRetryDelay: .milliseconds(1),
            now: clock?.read ?? Date.init)
    }

    /// The secrets that must appear in no log line and no reason: device tokens, credentials, and a stretch of
    /// each private key's PEM body (any line of it would do).
    static func secrets(deviceTokens: [String], credentials: [String], privateKeyPEMs: [String]) -> [String] {
        let keyLines = privateKeyPEMs.flatMap { pem in
            pem.split(separator: "\n").filter { !$0.hasPrefix("-----") && $0.count >= 40 }.prefix(3).map(String.init)
        }
        return deviceTokens + credentials + keyLines
    }

    /// The secrets found in `texts`, for `#expect(... .isEmpty)`.
    static func leaks(of secrets: [String], in texts: [String]) -> [String] {
        secrets.filter { secret in texts.contains { $0.contains(secret) } }
    }

    /// The reasons of failed outcomes.
    static func reasons(_ outcomes: [PushOutcome]) -> [String] {
        outcomes.compactMap { if case .failed(let reason) = $0 { reason } else { nil } }
    }
}
