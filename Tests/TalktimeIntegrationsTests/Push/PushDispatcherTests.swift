import AsyncHTTPClient
import Foundation
import Logging
import TalktimeCore
import TalktimeTestSupport
import Testing

@testable import TalktimeIntegrations

/// The dispatcher sends each push through its platform's service, and says so when that platform has none.
@Suite struct PushDispatcherTests {
    let logger = Logger(label: "test")
    let ring = PushTestSupport.ring

    @Test func eachPlatformGoesToItsOwnService() async throws {
        try await FakeFCM.run { fcm in
            try await FakeAPNs.run { apns in
                let dispatcher = try PushDispatcher(
                    fcm: FCMConfiguration(serviceAccountJSON: fcm.serviceAccountJSON, baseURL: fcm.baseURL),
                    apns: PushTestSupport.apnsConfiguration(apns), httpClient: .shared)
                #expect(dispatcher.configuredPlatforms == [.android, .ios])
                let android = PushTestSupport.androidDevice()
                let ios = PushTestSupport.iosDevice()
                #expect(await dispatcher.send(ring, to: android, logger: logger) == .delivered)
                #expect(await dispatcher.send(ring, to: ios, logger: logger) == .delivered)
                #expect(fcm.messages.map(\.token) == [android.token])
                #expect(apns.pushes.map(\.deviceToken) == [ios.token])
                #expect(fcm.refusals.isEmpty && apns.refusals.isEmpty)
            }
        }
    }

    @Test func aPlatformWithoutAServiceIsNotConfigured() async throws {
        try await FakeAPNs.run { apns in
            let iosOnly = try PushDispatcher(fcm: nil, apns: PushTestSupport.apnsConfiguration(apns), httpClient: .shared)
            #expect(iosOnly.configuredPlatforms == [.ios])
            #expect(await iosOnly.send(ring, to: PushTestSupport.androidDevice(), logger: logger) == .notConfigured)
            #expect(await iosOnly.send(ring, to: PushTestSupport.iosDevice(), logger: logger) == .delivered)
        }
        let none = PushDispatcher(fcm: nil, apns: nil, httpClient: .shared)
        #expect(none.configuredPlatforms.isEmpty)
        for platform in DevicePlatform.allCases {
            #expect(await none.send(ring, to: PushDevice(id: UUID(), platform: platform, token: "t"), logger: logger) == .notConfigured)
        }
    }

    @Test func aDeviceGoneOnEitherServiceReachesTheCaller() async throws {
        try await FakeFCM.run { fcm in
            try await FakeAPNs.run { apns in
                let dispatcher = try PushDispatcher(
                    fcm: FCMConfiguration(serviceAccountJSON: fcm.serviceAccountJSON, baseURL: fcm.baseURL),
                    apns: PushTestSupport.apnsConfiguration(apns), httpClient: .shared)
                let android = PushTestSupport.androidDevice()
                let ios = PushTestSupport.iosDevice()
                fcm.unregister(android.token)
                apns.unregister(ios.token)
                #expect(await dispatcher.send(ring, to: android, logger: logger) == .deviceGone)
                #expect(await dispatcher.send(ring, to: ios, logger: logger) == .deviceGone)
            }
        }
    }
}
