import Foundation
import Logging

/// Sends push notifications to users' devices (FCM for Android, APNs VoIP for iOS; loopback fakes in tests).
///
/// A push is best effort: it never throws, so a failed push can never fail the request that caused it. The
/// outcome tells the caller whether the device should be forgotten.
public protocol PushNotifier: Sendable {
    func send(_ message: PushMessage, to device: PushDevice, logger: Logger) async -> PushOutcome
}

/// The kind of device a token belongs to, which decides the push service.
public enum DevicePlatform: String, Sendable, Codable, CaseIterable {
    /// An FCM registration token.
    case android
    /// An APNs VoIP (PushKit) device token, hexadecimal.
    case ios
}

/// One registered device of a user.
public struct PushDevice: Sendable, Equatable {
    public var id: UUID
    public var platform: DevicePlatform
    public var token: String

    public init(id: UUID, platform: DevicePlatform, token: String) {
        self.id = id
        self.platform = platform
        self.token = token
    }
}

/// A data message: a `type` and string fields the app reads, delivered at high priority.
public struct PushMessage: Sendable, Equatable {
    /// `incoming_call`, ...
    public var type: String
    /// String fields of the data payload besides `type` (`call_id`, ...); never secrets, no more than needed.
    public var data: [String: String]
    /// After this long the push is worthless (a ring that has timed out) and the service should drop it.
    public var timeToLive: Duration
    /// Pushes with the same collapse key replace each other on the device (the call's id).
    public var collapseKey: String?

    public init(type: String, data: [String: String], timeToLive: Duration, collapseKey: String? = nil) {
        self.type = type
        self.data = data
        self.timeToLive = timeToLive
        self.collapseKey = collapseKey
    }
}

/// What became of one push.
public enum PushOutcome: Sendable, Equatable {
    case delivered
    /// The service says the token is no longer valid (FCM `UNREGISTERED`, APNs 410 `Unregistered` or
    /// `BadDeviceToken`): delete the device.
    case deviceGone
    /// Not delivered, after the retries the notifier allows; the reason is safe to log.
    case failed(reason: String)
    /// No push service is configured for the device's platform.
    case notConfigured
}
