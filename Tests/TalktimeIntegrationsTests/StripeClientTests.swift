import AsyncHTTPClient
import Foundation
import Logging
import TalktimeCore
import TalktimeTestSupport
import Testing

@testable import TalktimeIntegrations

/// The Stripe client against a fake Stripe on loopback that checks what Stripe checks.
@Suite struct StripeClientTests {
    let logger = Logger(label: "test")
    let request = PaymentRequest(amount: 1_250, currency: "EUR", metadata: ["top_up_id": "t-1", "note": "a&b=c d é"])

    func client(_ fake: FakeStripe, key: String? = nil, retries: Int = 2) -> StripeClient {
        StripeClient(
            configuration: StripeConfiguration(
                baseURL: fake.baseURL, secretKey: key ?? fake.secretKey, requestTimeout: .seconds(5), maxRetries: retries),
            baseRetryDelay: .milliseconds(1))
    }

    @Test func createsAPaymentIntentWithTheFormStripeExpects() async throws {
        try await FakeStripe.run { fake in
            let created = try await client(fake).createPayment(request, idempotencyKey: "key-1", logger: logger)
            let intent = try #require(fake.paymentIntents[created.id])
            #expect(intent.amount == 1_250)
            #expect(intent.currency == "eur")
            #expect(intent.metadata == ["top_up_id": "t-1", "note": "a&b=c d é"])
            #expect(created.clientSecret == intent.clientSecret)
            #expect(fake.received.map(\.idempotencyKey) == ["key-1"])
            // Byte for byte: fixed order, metadata keys sorted, everything but unreserved characters escaped.
            #expect(
                fake.received[0].body
                    == "amount=1250&currency=eur&automatic_payment_methods%5Benabled%5D=true"
                    + "&metadata%5Bnote%5D=a%26b%3Dc%20d%20%C3%A9&metadata%5Btop_up_id%5D=t-1")
            #expect(fake.received[0].stripeVersion == StripeConfiguration().apiVersion)
            #expect(fake.received[0].contentType == "application/x-www-form-urlencoded")
            #expect(fake.received[0].userAgent?.hasPrefix("Talktime/") == true)
            #expect(intent.automaticPaymentMethods == true)
            #expect(created.status == "requires_payment_method")
        }
    }

    @Test func theSameKeyGivesTheSamePaymentIntent() async throws {
        try await FakeStripe.run { fake in
            let first = try await client(fake).createPayment(request, idempotencyKey: "same", logger: logger)
            let second = try await client(fake).createPayment(request, idempotencyKey: "same", logger: logger)
            #expect(first == second)
            #expect(fake.paymentIntents.count == 1)
        }
    }

    @Test(arguments: [500, 409, 429, 503])
    func retriesWithTheSameKeyThenSucceeds(status: Int) async throws {
        try await FakeStripe.run { fake in
            fake.failNext(2, status: status)
            let created = try await client(fake).createPayment(request, idempotencyKey: "retry-\(status)", logger: logger)
            #expect(fake.paymentIntents[created.id] != nil)
            #expect(fake.received.map(\.idempotencyKey) == Array(repeating: "retry-\(status)", count: 3))
        }
    }

    @Test func stripeShouldRetryFalseStopsAtOnceAndTrueRetriesA400() async throws {
        try await FakeStripe.run { fake in
            fake.failNext(1, status: 500, shouldRetry: false)
            await #expect(throws: PaymentProviderError.unavailable(retryAfter: nil)) {
                try await client(fake).createPayment(request, idempotencyKey: "no-retry", logger: logger)
            }
            #expect(fake.received.count == 1)
            fake.failNext(1, status: 400, shouldRetry: true)
            _ = try await client(fake).createPayment(request, idempotencyKey: "retry-400", logger: logger)
            #expect(fake.received.count == 3)
        }
    }

    @Test func exhaustedRetriesAreUnavailable() async throws {
        try await FakeStripe.run { fake in
            fake.failNext(10, status: 502)
            await #expect(throws: PaymentProviderError.unavailable(retryAfter: nil)) {
                try await client(fake, retries: 2).createPayment(request, idempotencyKey: "down", logger: logger)
            }
            #expect(fake.received.count == 3)
        }
    }

    @Test func refusalsMapToDomainErrorsWithoutTheKey() async throws {
        try await FakeStripe.run { fake in
            let wrongKey = "sk_test_wrong_0123456789"
            do {
                _ = try await client(fake, key: wrongKey).createPayment(request, idempotencyKey: "k", logger: logger)
                Issue.record("a wrong key was accepted")
            } catch let error as PaymentProviderError {
                #expect(error == .notAuthorized)
                #expect(!"\(error)".contains(wrongKey))
            }
            let zero = PaymentRequest(amount: 0, currency: "EUR", metadata: [:])
            do {
                _ = try await client(fake).createPayment(zero, idempotencyKey: "zero", logger: logger)
                Issue.record("a zero amount was accepted")
            } catch let error as PaymentProviderError {
                guard case .rejected(let code, let message) = error else {
                    Issue.record("expected rejected, got \(error)")
                    return
                }
                #expect(code == "parameter_invalid_integer")
                #expect(!message.contains(fake.secretKey))
            }
            // One key for two different requests: Stripe's idempotency_error, not a retry.
            _ = try await client(fake).createPayment(request, idempotencyKey: "reused", logger: logger)
            let other = PaymentRequest(amount: 999, currency: "EUR", metadata: [:])
            await #expect(throws: PaymentProviderError.self) {
                try await client(fake).createPayment(other, idempotencyKey: "reused", logger: logger)
            }
            await #expect(throws: PaymentProviderError.notConfigured) {
                try await StripeClient(configuration: StripeConfiguration(baseURL: fake.baseURL, secretKey: nil))
                    .createPayment(request, idempotencyKey: "k", logger: logger)
            }
        }
    }

    @Test func anUnreachableStripeIsUnavailable() async throws {
        let client = StripeClient(
            configuration: StripeConfiguration(baseURL: "http://127.0.0.1:9", secretKey: "sk_test_x", requestTimeout: .seconds(2), maxRetries: 1),
            baseRetryDelay: .milliseconds(1))
        await #expect(throws: PaymentProviderError.unavailable(retryAfter: nil)) {
            try await client.createPayment(request, idempotencyKey: "k", logger: logger)
        }
    }

    @Test func formEncodingEscapesEverythingButUnreservedCharacters() {
        #expect(StripeFormEncoding.encode([("metadata[a b]", "x&y=z+é")]) == "metadata%5Ba%20b%5D=x%26y%3Dz%2B%C3%A9")
    }
}
