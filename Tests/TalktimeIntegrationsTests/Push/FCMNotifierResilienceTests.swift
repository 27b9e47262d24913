import Foundation
import Logging
import TalktimeCore
import TalktimeTestSupport
import Testing

@testable import TalktimeIntegrations

/// FCM when it is busy, down, slow or refuses the service account: bounded retries that honour `Retry-After`,
/// a failure rather than a hang or a throw, and nothing secret in a reason or a log line.
@Suite struct FCMNotifierResilienceTests {
    let logger = Logger(label: "test")
    let ring = PushTestSupport.ring

    @Test(arguments: [429, 503, 500])
    func aBusyOrFailingServiceIsRetriedUntilItDelivers(status: Int) async throws {
        try await FakeFCM.run { fake in
            fake.failNext(2, status: status, retryAfter: 0)
            let outcome = try await PushTestSupport.fcm(fake, attempts: 3).send(ring, to: PushTestSupport.androidDevice(), logger: logger)
            #expect(outcome == .delivered)
            #expect(fake.sendCount == 3)
            #expect(fake.messages.count == 1)
        }
    }

    @Test func retryAfterIsWaitedFor() async throws {
        try await FakeFCM.run { fake in
            fake.failNext(1, status: 429, retryAfter: 1)
            let started = ContinuousClock.now
            let outcome = try await PushTestSupport.fcm(fake).send(ring, to: PushTestSupport.androidDevice(), logger: logger)
            #expect(outcome == .delivered)
            #expect(ContinuousClock.now - started >= .seconds(1))
        }
    }

    @Test func exhaustedRetriesAreAFailureSayingHowManyAttempts() async throws {
        try await FakeFCM.run { fake in
            fake.failNext(3, status: 503)
            let outcome = try await PushTestSupport.fcm(fake, attempts: 3).send(ring, to: PushTestSupport.androidDevice(), logger: logger)
            #expect(outcome == .failed(reason: "FCM answered 503 UNAVAILABLE (after 3 attempts)"))
            #expect(fake.sendCount == 3)
        }
    }

    @Test func aRetryAfterBeyondTheTimeToLiveIsNotWaitedFor() async throws {
        try await FakeFCM.run { fake in
            fake.failNext(1, status: 503, retryAfter: 20)
            let shortRing = PushMessage(type: "incoming_call", data: [:], timeToLive: .seconds(10))
            let started = ContinuousClock.now
            let outcome = try await PushTestSupport.fcm(fake).send(shortRing, to: PushTestSupport.androidDevice(), logger: logger)
            #expect(outcome == .failed(reason: "FCM answered 503 UNAVAILABLE (retrying would outlive the push's time to live)"))
            // Well short of the 20 s asked for, with room for a busy machine.
            #expect(ContinuousClock.now - started < .seconds(12))
            #expect(fake.sendCount == 1)
        }
    }

    @Test func aSlowAnswerIsATimeoutFailureWithinTheLimit() async throws {
        try await FakeFCM.run { fake in
            // Bounds wide enough for a busy machine: what counts is that the slow answer is not waited for.
            let notifier = try PushTestSupport.fcm(fake, timeout: .seconds(2), attempts: 1)
            // The token exchange first, so that only the send is slow. A machine busy enough to take 2 s over the
            // first exchange and connection gets another try: this warm-up is not what the test measures.
            var warmedUp = false
            for _ in 0..<3 where !warmedUp {
                warmedUp = await notifier.send(ring, to: PushTestSupport.androidDevice(), logger: logger) == .delivered
            }
            #expect(warmedUp)
            fake.delayNext(1, by: .seconds(12))
            let started = ContinuousClock.now
            let outcome = await notifier.send(ring, to: PushTestSupport.androidDevice(), logger: logger)
            #expect(outcome == .failed(reason: "FCM send timed out (after 1 attempts)"))
            #expect(ContinuousClock.now - started < .seconds(9))
        }
    }

    @Test func aTimedOutAttemptIsRetried() async throws {
        try await FakeFCM.run { fake in
            // Timeouts wide enough for a busy machine.
            let notifier = try PushTestSupport.fcm(fake, timeout: .seconds(2), attempts: 2)
            #expect(await notifier.send(ring, to: PushTestSupport.androidDevice(), logger: logger) == .delivered)
            fake.delayNext(1, by: .seconds(5))
            #expect(await notifier.send(ring, to: PushTestSupport.androidDevice(), logger: logger) == .delivered)
        }
    }

    @Test func anUnreachableServiceIsAFailureNotAThrow() async throws {
        // Port 9 (discard) on loopback: nothing listens, the connection is refused.
        let fakeJSON = try await FakeFCM.run { fake in fake.serviceAccountJSON }
        let configuration = try FCMConfiguration(
            serviceAccountJSON: fakeJSON, baseURL: "http://127.0.0.1:9", requestTimeout: .seconds(2), maxAttempts: 2)
        let outcome = await FCMNotifier(configuration: configuration, baseRetryDelay: .milliseconds(1))
            .send(ring, to: PushTestSupport.androidDevice(), logger: logger)
        guard case .failed(let reason) = outcome else {
            Issue.record("expected a failure, got \(outcome)")
            return
        }
        #expect(reason.hasPrefix("FCM OAuth token exchange"))
    }

    @Test func aBusyTokenEndpointIsRetried() async throws {
        try await FakeFCM.run { fake in
            fake.failNextExchanges(1, status: 503, retryAfter: 0)
            let notifier = try PushTestSupport.fcm(fake)
            #expect(await notifier.send(ring, to: PushTestSupport.androidDevice(), logger: logger) == .delivered)
            #expect(fake.exchangeCount == 2)
        }
    }

    @Test func anAssertionSignedWithAnotherKeyIsRefusedOnceAndNotRetried() async throws {
        try await FakeFCM.run { fake in
            let impostor = fake.serviceAccountJSON(overriding: ["private_key": try FakeFCM.otherPrivateKeyPEM()])
            let configuration = try FCMConfiguration(serviceAccountJSON: impostor, baseURL: fake.baseURL, maxAttempts: 3)
            let outcome = await FCMNotifier(configuration: configuration, baseRetryDelay: .milliseconds(1))
                .send(ring, to: PushTestSupport.androidDevice(), logger: logger)
            #expect(outcome == .failed(reason: "FCM OAuth token exchange refused (400 invalid_grant)"))
            #expect(fake.exchangeCount == 1)
            #expect(fake.sendCount == 0)
            #expect(fake.refusals == ["token: Invalid JWT Signature."])
        }
    }

    @Test func nothingSecretIsLoggedOrGivenAsAReason() async throws {
        try await FakeFCM.run { fake in
            let capture = LogCapture()
            let logger = capture.logger()
            let notifier = try PushTestSupport.fcm(fake, attempts: 2)
            var devices: [PushDevice] = []
            var outcomes: [PushOutcome] = []
            func send() async {
                let device = PushTestSupport.androidDevice()
                devices.append(device)
                outcomes.append(await notifier.send(ring, to: device, logger: logger))
            }
            await send()
            fake.expireAccessTokens()
            await send()
            fake.failNext(2, status: 503, retryAfter: 0)
            await send()
            fake.failNext(1, status: 400)
            await send()
            fake.failNext(1, status: 403)
            await send()
            let gone = PushTestSupport.androidDevice()
            fake.unregister(gone.token)
            devices.append(gone)
            outcomes.append(await notifier.send(ring, to: gone, logger: logger))
            let impostorKey = try FakeFCM.otherPrivateKeyPEM()
            let impostor = try FCMConfiguration(
                serviceAccountJSON: fake.serviceAccountJSON(overriding: ["private_key": impostorKey]), baseURL: fake.baseURL)
            let device = PushTestSupport.androidDevice()
            devices.append(device)
            outcomes.append(await FCMNotifier(configuration: impostor).send(ring, to: device, logger: logger))

            #expect(PushTestSupport.reasons(outcomes).count == 4)
            #expect(outcomes.contains(.deviceGone))
            let secrets = PushTestSupport.secrets(
                deviceTokens: devices.map(\.token), credentials: fake.issuedAccessTokens, privateKeyPEMs: [fake.privateKeyPEM, impostorKey])
            #expect(secrets.count > devices.count + 2)
            #expect(!capture.text.isEmpty)
            #expect(PushTestSupport.leaks(of: secrets, in: capture.text + PushTestSupport.reasons(outcomes)).isEmpty)
        }
    }
}
