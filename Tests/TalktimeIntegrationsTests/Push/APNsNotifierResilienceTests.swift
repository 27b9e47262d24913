import Foundation
import Logging
import TalktimeCore
import TalktimeTestSupport
import Testing

@testable import TalktimeIntegrations

/// APNs when it is busy, down or slow: bounded retries that honour `Retry-After`, a failure rather than a hang
/// or a throw, and nothing secret in a reason or a log line.
@Suite struct APNsNotifierResilienceTests {
    let logger = Logger(label: "test")
    let ring = PushTestSupport.ring

    @Test(arguments: [429, 503, 500])
    func aBusyOrFailingServiceIsRetriedUntilItDelivers(status: Int) async throws {
        try await FakeAPNs.run { fake in
            fake.failNext(2, status: status, retryAfter: 0)
            let outcome = try await PushTestSupport.apns(fake, attempts: 3).send(ring, to: PushTestSupport.iosDevice(), logger: logger)
            #expect(outcome == .delivered)
            #expect(fake.requestCount == 3)
            #expect(fake.pushes.count == 1)
        }
    }

    @Test func exhaustedRetriesAreAFailure() async throws {
        try await FakeAPNs.run { fake in
            fake.failNext(2, status: 429)
            let outcome = try await PushTestSupport.apns(fake, attempts: 2).send(ring, to: PushTestSupport.iosDevice(), logger: logger)
            #expect(outcome == .failed(reason: "APNs answered 429 TooManyRequests (after 2 attempts)"))
            #expect(fake.requestCount == 2)
        }
    }

    @Test func retryAfterIsWaitedFor() async throws {
        try await FakeAPNs.run { fake in
            fake.failNext(1, status: 503, retryAfter: 1)
            let started = ContinuousClock.now
            let notifier = try PushTestSupport.apns(fake)
            #expect(await notifier.send(ring, to: PushTestSupport.iosDevice(), logger: logger) == .delivered)
            #expect(ContinuousClock.now - started >= .seconds(1))
        }
    }

    @Test func aSlowAnswerIsATimeoutFailureWithinTheLimit() async throws {
        try await FakeAPNs.run { fake in
            // Bounds wide enough for a busy machine: what counts is that the slow answer is not waited for.
            fake.delayNext(1, by: .seconds(12))
            let started = ContinuousClock.now
            let outcome = try await PushTestSupport.apns(fake, timeout: .seconds(2), attempts: 1)
                .send(ring, to: PushTestSupport.iosDevice(), logger: logger)
            #expect(outcome == .failed(reason: "APNs send timed out (after 1 attempts)"))
            #expect(ContinuousClock.now - started < .seconds(9))
        }
    }

    @Test func nothingSecretIsLoggedOrGivenAsAReason() async throws {
        try await FakeAPNs.run { fake in
            let capture = LogCapture()
            let logger = capture.logger()
            let notifier = try PushTestSupport.apns(fake, timeout: .seconds(2), attempts: 2)
            var devices: [PushDevice] = []
            var outcomes: [PushOutcome] = []
            func send(prepare: (PushDevice) -> Void = { _ in }) async {
                let device = PushTestSupport.iosDevice()
                devices.append(device)
                prepare(device)
                outcomes.append(await notifier.send(ring, to: device, logger: logger))
            }
            await send()
            fake.expireProviderTokens()
            await send()
            fake.failNext(2, status: 503, retryAfter: 0)
            await send()
            fake.failNext(1, status: 400, reason: "DeviceTokenNotForTopic")
            await send()
            await send { fake.unregister($0.token) }
            await send { fake.markBad($0.token) }
            fake.delayNext(2, by: .seconds(5))
            await send()

            #expect(PushTestSupport.reasons(outcomes).count == 3)
            let secrets = PushTestSupport.secrets(
                deviceTokens: devices.map(\.token), credentials: fake.providerTokens, privateKeyPEMs: [fake.privateKeyPEM])
            #expect(fake.providerTokens.count == 2)
            #expect(!capture.text.isEmpty)
            #expect(PushTestSupport.leaks(of: secrets, in: capture.text + PushTestSupport.reasons(outcomes)).isEmpty)
        }
    }
}
