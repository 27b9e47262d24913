import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import TalktimeCore

/// Talktime's Stripe API client: creates the PaymentIntents behind top-ups.
///
/// Every POST carries the secret key as a bearer token, the pinned `Stripe-Version` and an idempotency key, and
/// is retried with the same key (so Stripe creates one object however many attempts reach it) after a network
/// error, 409, 429 or 5xx, with exponential backoff and jitter, unless Stripe says `Stripe-Should-Retry: false`;
/// `Stripe-Should-Retry: true` retries whatever the status. Neither the key nor a client secret is ever logged.
public struct StripeClient: PaymentProvider {
    let configuration: StripeConfiguration
    let httpClient: HTTPClient
    /// The first retry's delay; each later one doubles, with up to 50 % jitter.
    let baseRetryDelay: Duration

    /// - Parameters:
    ///   - configuration: where Stripe is, the key, the pinned version, the timeout and how many retries.
    ///   - httpClient: owned and shut down by the caller.
    ///   - baseRetryDelay: the first backoff; tests pass a millisecond.
    public init(configuration: StripeConfiguration, httpClient: HTTPClient = .shared, baseRetryDelay: Duration = .milliseconds(500)) {
        self.configuration = configuration
        self.httpClient = httpClient
        self.baseRetryDelay = baseRetryDelay
    }

    /// Creates a PaymentIntent (`POST /v1/payment_intents`) with automatic payment methods and the request's
    /// metadata; the currency is sent in lower case, as Stripe writes it.
    public func createPayment(_ request: PaymentRequest, idempotencyKey: String, logger: Logger) async throws -> CreatedPayment {
        var form: [(String, String)] = [
            ("amount", String(request.amount)),
            ("currency", request.currency.lowercased()),
            ("automatic_payment_methods[enabled]", "true"),
        ]
        for key in request.metadata.keys.sorted() { form.append(("metadata[\(key)]", request.metadata[key]!)) }
        let body = try await post("/v1/payment_intents", form: form, idempotencyKey: idempotencyKey, logger: logger)
        guard let intent = try? JSONDecoder().decode(PaymentIntentBody.self, from: body) else {
            logger.error("stripe answered a PaymentIntent we could not read")
            throw PaymentProviderError.unavailable(retryAfter: nil)
        }
        return CreatedPayment(id: intent.id, clientSecret: intent.client_secret, status: intent.status)
    }

    private struct PaymentIntentBody: Decodable {
        let id: String
        let client_secret: String
        let status: String
    }

    /// Stripe's error body: `{"error": {"type", "code", "message"}}`.
    private struct ErrorBody: Decodable {
        struct Detail: Decodable {
            let type: String?
            let code: String?
            let message: String?
        }
        let error: Detail
    }

    /// POSTs `form` to `path`, retrying as described above; returns the body of a 2xx answer.
    func post(_ path: String, form: [(String, String)], idempotencyKey: String, logger: Logger) async throws -> Data {
        guard let secretKey = configuration.secretKey else { throw PaymentProviderError.notConfigured }
        var request = HTTPClientRequest(url: configuration.baseURL + path)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(secretKey)")
        request.headers.add(name: "Stripe-Version", value: configuration.apiVersion)
        request.headers.add(name: "Idempotency-Key", value: idempotencyKey)
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "User-Agent", value: "Talktime/1.0")
        let encoded = StripeFormEncoding.encode(form)
        request.body = .bytes(ByteBuffer(string: encoded))

        var attempt = 0
        var retryAfter: Duration?
        while true {
            attempt += 1
            let outcome: Attempt
            do {
                outcome = try await send(request, secretKey: secretKey, logger: logger)
            } catch let error as PaymentProviderError {
                throw error
            } catch {
                logger.warning("stripe request failed", metadata: ["attempt": "\(attempt)", "error": "\(type(of: error))"])
                outcome = .retry(after: nil, error: .unavailable(retryAfter: nil))
            }
            switch outcome {
            case .success(let body):
                return body
            case .fail(let error):
                throw error
            case .retry(let after, let error):
                retryAfter = after
                guard attempt <= configuration.maxRetries else {
                    if case .unavailable = error { throw PaymentProviderError.unavailable(retryAfter: retryAfter) }
                    throw error
                }
                try await Task.sleep(for: after ?? backoff(attempt: attempt))
            }
        }
    }

    private enum Attempt {
        case success(Data)
        case fail(PaymentProviderError)
        case retry(after: Duration?, error: PaymentProviderError)
    }

    private func send(_ request: HTTPClientRequest, secretKey: String, logger: Logger) async throws -> Attempt {
        let (seconds, attoseconds) = configuration.requestTimeout.components
        let timeout = TimeAmount.nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        let response = try await httpClient.execute(request, timeout: timeout)
        let body = Data(buffer: try await response.body.collect(upTo: 1 << 20))
        let status = Int(response.status.code)
        // Only Stripe's two documented values override the status; anything else is as if absent.
        let shouldRetry: Bool? =
            switch response.headers.first(name: "Stripe-Should-Retry")?.lowercased() {
            case "true": true
            case "false": false
            default: nil
            }
        let retryAfter = RetryAfterHeader.wait(in: response.headers, now: Date()).map { min($0, .seconds(60)) }
        if (200..<300).contains(status) { return .success(body) }

        let detail = (try? JSONDecoder().decode(ErrorBody.self, from: body))?.error
        logger.warning(
            "stripe refused a request",
            metadata: ["status": "\(status)", "stripe_error_type": "\(detail?.type ?? "-")", "stripe_error_code": "\(detail?.code ?? "-")"])
        let error: PaymentProviderError =
            switch status {
            case 401, 403: .notAuthorized
            case 400, 402, 404: .rejected(code: Self.code(of: detail), message: Self.message(of: detail, secretKey: secretKey))
            default: .unavailable(retryAfter: retryAfter)
            }
        let retryable = shouldRetry ?? (status == 409 || status == 429 || status >= 500)
        return retryable ? .retry(after: retryAfter, error: error) : .fail(error)
    }

    /// Stripe's code; an `idempotency_error` has none, and is worth telling apart: a key reused for another request.
    private static func code(of detail: ErrorBody.Detail?) -> String? {
        detail?.code ?? (detail?.type == "idempotency_error" ? "idempotency_error" : nil)
    }

    /// Stripe's message, shown to End Users: should one ever quote our key, it is cut out, and a long one is cut short.
    private static func message(of detail: ErrorBody.Detail?, secretKey: String) -> String {
        guard let message = detail?.message, !message.isEmpty else { return "Stripe refused the request." }
        return String(message.replacingOccurrences(of: secretKey, with: "[secret key]").prefix(500))
    }

    private func backoff(attempt: Int) -> Duration {
        RetryBackoff.delay(base: baseRetryDelay, attempt: attempt)
    }
}
