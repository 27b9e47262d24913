import Foundation
import Logging
import TalktimeCore
import TalktimeTestSupport
import Testing

@testable import TalktimeIntegrations

/// FCM sends as FCM sees them: the exact message, one access token shared and renewed at the right times, and
/// each answer mapped to the outcome it means.
@Suite struct FCMNotifierTests {
    let logger = Logger(label: "test")
    let ring = PushTestSupport.ring

    /// `object` as JSON with sorted keys, to compare bodies whatever their key order.
    func canonical(_ object: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    @Test func theMessageIsDataOnlyAtHighPriorityWithTheTimeToLiveAndCollapseKey() async throws {
        try await FakeFCM.run { fake in
            let device = PushTestSupport.androidDevice()
            let outcome = try await PushTestSupport.fcm(fake).send(ring, to: device, logger: logger)
            #expect(outcome == .delivered)
            #expect(fake.refusals.isEmpty)
            let body = try #require(fake.messages.first?.body)
            let expected: [String: Any] = [
                "message": [
                    "token": device.token,
                    "data": ["type": "incoming_call", "call_id": "6f1c2a9e-0d4b-4a57-9a3e-2b8f5c7d1e40", "caller_name": "Ada"],
                    "android": ["priority": "HIGH", "ttl": "30s", "collapse_key": "6f1c2a9e-0d4b-4a57-9a3e-2b8f5c7d1e40"],
                ]
            ]
            #expect(try canonical(JSONSerialization.jsonObject(with: Data(body.utf8))) == canonical(expected))
        }
    }

    @Test func withoutACollapseKeyNoneIsSentAndTheTypeFieldCannotBeOverridden() async throws {
        try await FakeFCM.run { fake in
            let message = PushMessage(type: "call_ended", data: ["type": "forged", "call_id": "c-1"], timeToLive: .milliseconds(90_500))
            let outcome = try await PushTestSupport.fcm(fake).send(message, to: PushTestSupport.androidDevice(), logger: logger)
            #expect(outcome == .delivered)
            let sent = try #require(fake.messages.first)
            #expect(sent.data == ["type": "call_ended", "call_id": "c-1"])
            #expect(sent.ttl == "90s")
            #expect(sent.collapseKey == nil)
            #expect(!sent.body.contains("collapse_key"))
        }
    }

    @Test func fiftyConcurrentSendsShareOneTokenExchange() async throws {
        try await FakeFCM.run { fake in
            let notifier = try PushTestSupport.fcm(fake)
            let outcomes = await withTaskGroup(of: PushOutcome.self) { group in
                for _ in 0..<50 { group.addTask { await notifier.send(ring, to: PushTestSupport.androidDevice(), logger: logger) } }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes == Array(repeating: .delivered, count: 50))
            #expect(fake.exchangeCount == 1)
            #expect(fake.messages.count == 50)
            #expect(fake.sendCount == 50)
        }
    }

    @Test func theAccessTokenIsRenewedShortlyBeforeItExpiresAndNotBefore() async throws {
        let clock = TestClock()
        try await FakeFCM.run(now: clock.read) { fake in
            let notifier = try PushTestSupport.fcm(fake, clock: clock)
            #expect(await notifier.send(ring, to: PushTestSupport.androidDevice(), logger: logger) == .delivered)
            clock.advance(by: .seconds(54 * 60))
            #expect(await notifier.send(ring, to: PushTestSupport.androidDevice(), logger: logger) == .delivered)
            #expect(fake.exchangeCount == 1)
            // Google's tokens live 3599 s; renewal comes five minutes ahead, so never a send with a dying token.
            clock.advance(by: .seconds(2 * 60))
            #expect(await notifier.send(ring, to: PushTestSupport.androidDevice(), logger: logger) == .delivered)
            #expect(fake.exchangeCount == 2)
            clock.advance(by: .seconds(3 * 3600))
            #expect(await notifier.send(ring, to: PushTestSupport.androidDevice(), logger: logger) == .delivered)
            #expect(fake.exchangeCount == 3)
            // No send was refused for a stale token on the way.
            #expect(fake.sendCount == 4)
        }
    }

    @Test func aShortLivedTokenIsRenewedAtHalfItsLife() async throws {
        let clock = TestClock()
        try await FakeFCM.run(now: clock.read) { fake in
            fake.setAccessTokenLifetime(seconds: 60)
            let notifier = try PushTestSupport.fcm(fake, clock: clock)
            #expect(await notifier.send(ring, to: PushTestSupport.androidDevice(), logger: logger) == .delivered)
            clock.advance(by: .seconds(29))
            #expect(await notifier.send(ring, to: PushTestSupport.androidDevice(), logger: logger) == .delivered)
            #expect(fake.exchangeCount == 1)
            clock.advance(by: .seconds(2))
            #expect(await notifier.send(ring, to: PushTestSupport.androidDevice(), logger: logger) == .delivered)
            #expect(fake.exchangeCount == 2)
        }
    }

    @Test func aRejectedTokenIsExchangedAgainOnceForAllTheSendsThatSawIt() async throws {
        try await FakeFCM.run { fake in
            let notifier = try PushTestSupport.fcm(fake)
            #expect(await notifier.send(ring, to: PushTestSupport.androidDevice(), logger: logger) == .delivered)
            fake.expireAccessTokens()
            let outcomes = await withTaskGroup(of: PushOutcome.self) { group in
                for _ in 0..<20 { group.addTask { await notifier.send(ring, to: PushTestSupport.androidDevice(), logger: logger) } }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes == Array(repeating: .delivered, count: 20))
            #expect(fake.exchangeCount == 2)
            #expect(fake.messages.count == 21)
        }
    }

    @Test func aFreshTokenRejectedTooIsAFailureNotALoop() async throws {
        try await FakeFCM.run { fake in
            // Tokens that are dead on arrival: every send is answered 401.
            fake.setAccessTokenLifetime(seconds: 0)
            let outcome = try await PushTestSupport.fcm(fake).send(ring, to: PushTestSupport.androidDevice(), logger: logger)
            #expect(outcome == .failed(reason: "FCM answered 401 UNAUTHENTICATED"))
            #expect(fake.exchangeCount == 2)
            #expect(fake.sendCount == 2)
        }
    }

    @Test func anUnregisteredTokenMeansTheDeviceIsGone() async throws {
        try await FakeFCM.run { fake in
            let device = PushTestSupport.androidDevice()
            fake.unregister(device.token)
            let notifier = try PushTestSupport.fcm(fake)
            #expect(await notifier.send(ring, to: device, logger: logger) == .deviceGone)
            #expect(fake.sendCount == 1)
        }
    }

    @Test func aMalformedRegistrationTokenMeansTheDeviceIsGone() async throws {
        try await FakeFCM.run { fake in
            let device = PushTestSupport.androidDevice()
            fake.invalidate(device.token)
            let notifier = try PushTestSupport.fcm(fake)
            #expect(await notifier.send(ring, to: device, logger: logger) == .deviceGone)
        }
    }

    @Test func anInvalidArgumentAboutTheMessageKeepsTheDevice() async throws {
        try await FakeFCM.run { fake in
            fake.failNext(1, status: 400)
            let outcome = try await PushTestSupport.fcm(fake).send(ring, to: PushTestSupport.androidDevice(), logger: logger)
            #expect(outcome == .failed(reason: "FCM answered 400 INVALID_ARGUMENT"))
            #expect(fake.sendCount == 1)
        }
    }

    @Test func aReservedDataKeyIsRefusedByFCMAndKeepsTheDevice() async throws {
        try await FakeFCM.run { fake in
            let message = PushMessage(type: "incoming_call", data: ["google.sent_time": "1"], timeToLive: .seconds(30))
            let outcome = try await PushTestSupport.fcm(fake).send(message, to: PushTestSupport.androidDevice(), logger: logger)
            #expect(outcome == .failed(reason: "FCM answered 400 INVALID_ARGUMENT"))
        }
    }

    @Test(arguments: [403, 404])
    func otherRefusalsFailAtOnceAndKeepTheDevice(status: Int) async throws {
        try await FakeFCM.run { fake in
            fake.failNext(1, status: status)
            let outcome = try await PushTestSupport.fcm(fake).send(ring, to: PushTestSupport.androidDevice(), logger: logger)
            guard case .failed(let reason) = outcome else {
                Issue.record("expected a failure, got \(outcome)")
                return
            }
            #expect(reason.hasPrefix("FCM answered \(status)"))
            #expect(fake.sendCount == 1)
        }
    }
}
