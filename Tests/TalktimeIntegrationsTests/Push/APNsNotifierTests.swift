import Crypto
import Foundation
import Logging
import TalktimeCore
import TalktimeTestSupport
import Testing

@testable import TalktimeIntegrations

/// VoIP pushes as APNs sees them: exact headers and payload, one provider token reused for 50 minutes and
/// renewed when APNs calls it expired, and each answer mapped to the outcome it means.
@Suite struct APNsNotifierTests {
    let logger = Logger(label: "test")
    let ring = PushTestSupport.ring

    @Test func theHeadersTopicExpirationAndPayloadAreExact() async throws {
        let clock = TestClock(Date(timeIntervalSince1970: 1_750_000_000.75))
        try await FakeAPNs.run(now: clock.read) { fake in
            let device = PushTestSupport.iosDevice()
            let outcome = try await PushTestSupport.apns(fake, clock: clock).send(ring, to: device, logger: logger)
            #expect(outcome == .delivered)
            #expect(fake.refusals.isEmpty)
            let push = try #require(fake.pushes.first)
            #expect(push.deviceToken == device.token)
            #expect(push.pushType == "voip")
            #expect(push.topic == fake.bundleID + ".voip")
            #expect(push.priority == "10")
            #expect(push.expiration == 1_750_000_030)
            #expect(push.collapseID == "6f1c2a9e-0d4b-4a57-9a3e-2b8f5c7d1e40")
            #expect(push.data == ["type": "incoming_call", "call_id": "6f1c2a9e-0d4b-4a57-9a3e-2b8f5c7d1e40", "caller_name": "Ada"])
            #expect(push.body == #"{"aps":{},"call_id":"6f1c2a9e-0d4b-4a57-9a3e-2b8f5c7d1e40","caller_name":"Ada","type":"incoming_call"}"#)
        }
    }

    @Test func aLongCollapseKeyIsHashedToSixtyFourBytesAndNoneIsSentWithoutOne() async throws {
        try await FakeAPNs.run { fake in
            let notifier = try PushTestSupport.apns(fake)
            let key = String(repeating: "k", count: 65)
            let long = PushMessage(type: "incoming_call", data: ["aps": "forged"], timeToLive: .seconds(30), collapseKey: key)
            #expect(await notifier.send(long, to: PushTestSupport.iosDevice(), logger: logger) == .delivered)
            let bare = PushMessage(type: "incoming_call", data: [:], timeToLive: .seconds(30))
            #expect(await notifier.send(bare, to: PushTestSupport.iosDevice(), logger: logger) == .delivered)
            let pushes = fake.pushes
            #expect(pushes.count == 2)
            #expect(pushes.first?.collapseID == SHA256.hash(data: Data(key.utf8)).map { String(format: "%02x", $0) }.joined())
            #expect(pushes.first?.body.contains("forged") == false)
            #expect(pushes.last?.collapseID == nil)
            #expect(fake.refusals.isEmpty)
        }
    }

    @Test func fiftyConcurrentSendsShareOneProviderToken() async throws {
        try await FakeAPNs.run { fake in
            let notifier = try PushTestSupport.apns(fake)
            let outcomes = await withTaskGroup(of: PushOutcome.self) { group in
                for _ in 0..<50 { group.addTask { await notifier.send(ring, to: PushTestSupport.iosDevice(), logger: logger) } }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes == Array(repeating: .delivered, count: 50))
            #expect(fake.providerTokens.count == 1)
        }
    }

    @Test func theProviderTokenIsReusedForFiftyMinutesThenRenewed() async throws {
        let clock = TestClock()
        try await FakeAPNs.run(now: clock.read) { fake in
            let notifier = try PushTestSupport.apns(fake, clock: clock)
            #expect(await notifier.send(ring, to: PushTestSupport.iosDevice(), logger: logger) == .delivered)
            // Apple refuses renewals more often than every 20 minutes: at 49 minutes the token is still the same.
            clock.advance(by: .seconds(49 * 60))
            #expect(await notifier.send(ring, to: PushTestSupport.iosDevice(), logger: logger) == .delivered)
            #expect(fake.providerTokens.count == 1)
            clock.advance(by: .seconds(2 * 60))
            #expect(await notifier.send(ring, to: PushTestSupport.iosDevice(), logger: logger) == .delivered)
            #expect(fake.providerTokens.count == 2)
            #expect(fake.requestCount == 3)
        }
    }

    @Test func anExpiredProviderTokenIsRenewedOnceForAllTheSendsThatSawIt() async throws {
        try await FakeAPNs.run { fake in
            let notifier = try PushTestSupport.apns(fake)
            #expect(await notifier.send(ring, to: PushTestSupport.iosDevice(), logger: logger) == .delivered)
            fake.expireProviderTokens()
            let outcomes = await withTaskGroup(of: PushOutcome.self) { group in
                for _ in 0..<20 { group.addTask { await notifier.send(ring, to: PushTestSupport.iosDevice(), logger: logger) } }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes == Array(repeating: .delivered, count: 20))
            #expect(fake.providerTokens.count == 2)
            #expect(fake.pushes.count == 21)
        }
    }

    @Test func aRenewedTokenExpiredTooIsAFailureNotALoop() async throws {
        try await FakeAPNs.run { fake in
            fake.failNext(2, status: 403, reason: "ExpiredProviderToken")
            let outcome = try await PushTestSupport.apns(fake).send(ring, to: PushTestSupport.iosDevice(), logger: logger)
            #expect(outcome == .failed(reason: "APNs answered 403 ExpiredProviderToken"))
            #expect(fake.requestCount == 2)
        }
    }

    @Test func anUnregisteredOrBadTokenMeansTheDeviceIsGone() async throws {
        try await FakeAPNs.run { fake in
            let notifier = try PushTestSupport.apns(fake)
            let unregistered = PushTestSupport.iosDevice()
            fake.unregister(unregistered.token)
            #expect(await notifier.send(ring, to: unregistered, logger: logger) == .deviceGone)
            let bad = PushTestSupport.iosDevice()
            fake.markBad(bad.token)
            #expect(await notifier.send(ring, to: bad, logger: logger) == .deviceGone)
            #expect(fake.requestCount == 2)
        }
    }

    @Test(arguments: ["../../3/device/abcd", "ABCDEFG", "", "abc", "ab cd", "abcd?x=1"])
    func aTokenThatIsNotHexIsGoneWithoutARequest(token: String) async throws {
        try await FakeAPNs.run { fake in
            let outcome = try await PushTestSupport.apns(fake).send(ring, to: PushTestSupport.iosDevice(token), logger: logger)
            #expect(outcome == .deviceGone)
            #expect(fake.requestCount == 0)
        }
    }

    @Test(arguments: [
        (400, "DeviceTokenNotForTopic"), (403, "InvalidProviderToken"), (413, "PayloadTooLarge"), (400, "BadCollapseId"),
    ])
    func otherRefusalsFailAtOnceAndKeepTheDevice(status: Int, reason: String) async throws {
        try await FakeAPNs.run { fake in
            fake.failNext(1, status: status, reason: reason)
            let outcome = try await PushTestSupport.apns(fake).send(ring, to: PushTestSupport.iosDevice(), logger: logger)
            #expect(outcome == .failed(reason: "APNs answered \(status) \(reason)"))
            #expect(fake.requestCount == 1)
        }
    }
}
