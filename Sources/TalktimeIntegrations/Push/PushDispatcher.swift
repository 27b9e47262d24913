import AsyncHTTPClient
import Foundation
import Logging
import TalktimeCore

/// Talktime's push notifier: sends each push through the service of the device's platform (FCM for Android,
/// APNs VoIP for iOS) and answers `.notConfigured` for a platform without one.
///
/// Build one at start and share it: its notifiers hold the service credentials, renewed on their own schedule.
public struct PushDispatcher: PushNotifier {
    let fcm: FCMNotifier?
    let apns: APNsNotifier?

    /// The platforms a push can be sent to.
    public var configuredPlatforms: Set<DevicePlatform> {
        var platforms: Set<DevicePlatform> = []
        if fcm != nil { platforms.insert(.android) }
        if apns != nil { platforms.insert(.ios) }
        return platforms
    }

    /// - Parameters:
    ///   - fcm: FCM's configuration, or nil to leave Android devices without pushes.
    ///   - apns: APNs' configuration, or nil to leave iOS devices without pushes.
    ///   - httpClient: owned and shut down by the caller.
    /// The configurations were checked when they were made, so nothing is left to fail here.
    public init(fcm: FCMConfiguration?, apns: APNsConfiguration?, httpClient: HTTPClient) {
        self.init(
            fcm: fcm.map { FCMNotifier(configuration: $0, httpClient: httpClient) },
            apns: apns.map { APNsNotifier(configuration: $0, httpClient: httpClient) })
    }

    /// From notifiers made by hand (tests give them a clock and short backoffs).
    init(fcm: FCMNotifier?, apns: APNsNotifier?) {
        self.fcm = fcm
        self.apns = apns
    }

    public func send(_ message: PushMessage, to device: PushDevice, logger: Logger) async -> PushOutcome {
        let notifier: (any PushNotifier)? =
            switch device.platform {
            case .android: fcm
            case .ios: apns
            }
        guard let notifier else {
            logger.debug("push not configured for platform", metadata: ["push_platform": "\(device.platform.rawValue)"])
            return .notConfigured
        }
        return await notifier.send(message, to: device, logger: logger)
    }
}
