import Foundation
import Logging
import TalktimeCore
import TalktimeTestSupport
import Testing

@testable import TalktimeIntegrations

/// The client when Stripe fails late, answers slowly, is busy or refuses: one PaymentIntent per idempotency key,
/// errors the caller can act on, and nothing secret in an error or a log line.
@Suite struct StripeClientResilienceTests {
    let logger = Logger(label: "test")
    let request = PaymentRequest(amount: 2_000, currency: "EUR", metadata: ["top_up_id": "t-2"])

    func client(_ fake: FakeStripe, retries: Int = 2, timeout: Duration = .seconds(5)) -> StripeClient {
        StripeClient(
            configuration: StripeConfiguration(baseURL: fake.baseURL, secretKey: fake.secretKey, requestTimeout: timeout, maxRetries: retries),
            baseRetryDelay: .milliseconds(1))
    }

    @Test func anAnswerLostAfterStripeActedIsRetriedIntoTheSamePaymentIntent() async throws {
        try await FakeStripe.run { fake in
            fake.failNext(2, status: 500, afterProcessing: true)
            let created = try await client(fake).createPayment(request, idempotencyKey: "lost-answer", logger: logger)
            #expect(fake.paymentIntents.count == 1)
            #expect(fake.paymentIntents[created.id]?.clientSecret == created.clientSecret)
            #expect(fake.received.map(\.idempotencyKey) == Array(repeating: "lost-answer", count: 3))
        }
    }

    @Test func aTimedOutAttemptIsRetriedWithTheSameKeyIntoTheSamePaymentIntent() async throws {
        try await FakeStripe.run { fake in
            fake.delayNext(1, by: .seconds(2))
            let created = try await client(fake, timeout: .milliseconds(500)).createPayment(request, idempotencyKey: "slow", logger: logger)
            #expect(fake.paymentIntents.count == 1)
            #expect(fake.paymentIntents[created.id] != nil)
            // Two attempts, or three should a busy machine slow the second past the timeout too: one key throughout.
            #expect(fake.requestCount >= 2)
            #expect(fake.received.allSatisfy { $0.idempotencyKey == "slow" })
        }
    }

    @Test func retryAfterReachesTheCallerWhenStripeStaysBusy() async throws {
        try await FakeStripe.run { fake in
            fake.failNext(1, status: 429, retryAfter: 7)
            await #expect(throws: PaymentProviderError.unavailable(retryAfter: .seconds(7))) {
                try await client(fake, retries: 0).createPayment(request, idempotencyKey: "busy", logger: logger)
            }
            #expect(fake.requestCount == 1)
        }
    }

    @Test(arguments: [402, 404])
    func aRefusalIsRejectedAtOnce(status: Int) async throws {
        try await FakeStripe.run { fake in
            fake.failNext(1, status: status)
            await #expect(throws: PaymentProviderError.rejected(code: nil, message: "Injected failure.")) {
                try await client(fake).createPayment(request, idempotencyKey: "refused-\(status)", logger: logger)
            }
            #expect(fake.requestCount == 1)
        }
    }

    @Test func forbiddenIsNotAuthorizedAndNotRetried() async throws {
        try await FakeStripe.run { fake in
            fake.failNext(1, status: 403)
            await #expect(throws: PaymentProviderError.notAuthorized) {
                try await client(fake).createPayment(request, idempotencyKey: "forbidden", logger: logger)
            }
            #expect(fake.requestCount == 1)
        }
    }

    @Test func aKeyReusedForAnotherRequestIsAnIdempotencyError() async throws {
        try await FakeStripe.run { fake in
            _ = try await client(fake).createPayment(request, idempotencyKey: "reused", logger: logger)
            let other = PaymentRequest(amount: 2_001, currency: "EUR", metadata: ["top_up_id": "t-2"])
            do {
                _ = try await client(fake).createPayment(other, idempotencyKey: "reused", logger: logger)
                Issue.record("a reused key created a second PaymentIntent")
            } catch let error as PaymentProviderError {
                guard case .rejected(let code, _) = error else { throw error }
                #expect(code == "idempotency_error")
            }
            #expect(fake.paymentIntents.count == 1)
            #expect(fake.requestCount == 2)
        }
    }

    @Test func neitherTheKeyNorAClientSecretIsEverLoggedOrInAnError() async throws {
        try await FakeStripe.run { fake in
            let capture = LogCapture()
            let logger = capture.logger()
            var errors: [PaymentProviderError] = []
            let created = try await client(fake).createPayment(request, idempotencyKey: "logged-1", logger: logger)
            fake.failNext(1, status: 500)
            fake.failNext(1, status: 400)
            for (key, idempotencyKey) in [(fake.secretKey, "logged-2"), ("sk_test_wrong_key_0123456789", "logged-3")] {
                let client = StripeClient(
                    configuration: StripeConfiguration(baseURL: fake.baseURL, secretKey: key, maxRetries: 1), baseRetryDelay: .milliseconds(1))
                do {
                    _ = try await client.createPayment(request, idempotencyKey: idempotencyKey, logger: logger)
                } catch let error as PaymentProviderError {
                    errors.append(error)
                }
            }
            #expect(errors.count == 2)
            #expect(!capture.text.isEmpty)
            let everything = capture.text + errors.flatMap { ["\($0)", String(reflecting: $0), $0.localizedDescription] }
            for text in everything {
                #expect(!text.contains(fake.secretKey))
                #expect(!text.contains("sk_test_wrong_key"))
                #expect(!text.contains(created.clientSecret))
                #expect(!text.contains("_secret_"))
            }
        }
    }

    @Test func anyMetadataSurvivesTheFormEncoding() async throws {
        var random = SeededGenerator(seed: SeededGenerator.seed(named: "anyMetadataSurvivesTheFormEncoding"))
        // Everything form encoding can trip on: its own delimiters, escapes, spaces, and text beyond ASCII.
        let alphabet = Array("aZ09 &=+%#?;/\\\"'_-.~*\t\n\u{e9}\u{20ac}\u{1F600}\u{0301}")
        func text(_ length: ClosedRange<Int>) -> String {
            String((0..<Int.random(in: length, using: &random)).map { _ in alphabet.randomElement(using: &random)! })
        }
        let requests = (0..<40).map { round in
            var metadata: [String: String] = [:]
            for _ in 0..<Int.random(in: 1...5, using: &random) { metadata[text(1...20)] = text(1...60) }
            return PaymentRequest(amount: Int64(round + 1), currency: "EUR", metadata: metadata)
        }
        try await FakeStripe.run { fake in
            for (round, request) in requests.enumerated() {
                let created = try await client(fake).createPayment(request, idempotencyKey: "metadata-\(round)", logger: logger)
                #expect(fake.paymentIntents[created.id]?.metadata == request.metadata, "round \(round)")
            }
        }
    }
}
