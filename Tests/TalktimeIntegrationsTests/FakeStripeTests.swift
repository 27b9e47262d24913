import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TalktimeTestSupport
import Testing

/// The fake itself, driven by raw requests: it must refuse what Stripe refuses, or the client's tests prove
/// nothing.
@Suite struct FakeStripeTests {
    struct Answer {
        let status: Int
        let headers: HTTPHeaders
        let error: [String: Any]?
        let json: [String: Any]
    }

    static let goodBody = "amount=500&currency=eur&automatic_payment_methods%5Benabled%5D=true&metadata%5Btop_up_id%5D=t-1"

    func standardHeaders(_ fake: FakeStripe, key: String = "k-1") -> [String: String] {
        [
            "Authorization": "Bearer \(fake.secretKey)", "Stripe-Version": "2024-06-20", "Idempotency-Key": key,
            "Content-Type": "application/x-www-form-urlencoded",
        ]
    }

    func post(_ fake: FakeStripe, body: String = goodBody, headers: [String: String]) async throws -> Answer {
        var request = HTTPClientRequest(url: fake.baseURL + "/v1/payment_intents")
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        let json = try JSONSerialization.jsonObject(with: Data(buffer: bytes)) as? [String: Any] ?? [:]
        return Answer(status: Int(response.status.code), headers: response.headers, error: json["error"] as? [String: Any], json: json)
    }

    @Test func refusesWhatStripeRefuses() async throws {
        try await FakeStripe.run { fake in
            let standard = standardHeaders(fake)
            func without(_ name: String) -> [String: String] { standard.filter { $0.key != name } }
            func with(_ name: String, _ value: String) -> [String: String] { standard.merging([name: value]) { _, new in new } }
            // (what, headers, body, status, error type, code, param)
            let cases: [(String, [String: String], String, Int, String, String?, String?)] = [
                ("no key", without("Authorization"), Self.goodBody, 401, "invalid_request_error", nil, nil),
                ("wrong key", with("Authorization", "Bearer sk_test_wrong"), Self.goodBody, 401, "invalid_request_error", nil, nil),
                ("raw key as basic auth", with("Authorization", "Basic \(fake.secretKey)"), Self.goodBody, 401, "invalid_request_error", nil, nil),
                ("no version", without("Stripe-Version"), Self.goodBody, 400, "invalid_request_error", "version_missing", nil),
                ("no idempotency key", without("Idempotency-Key"), Self.goodBody, 400, "invalid_request_error", "idempotency_key_missing", nil),
                ("JSON body", with("Content-Type", "application/json"), #"{"amount":500,"currency":"eur"}"#, 400, "invalid_request_error", nil, nil),
                ("no amount", standard, "currency=eur", 400, "invalid_request_error", "parameter_missing", "amount"),
                ("zero amount", standard, "amount=0&currency=eur", 400, "invalid_request_error", "parameter_invalid_integer", "amount"),
                ("negative amount", standard, "amount=-5&currency=eur", 400, "invalid_request_error", "parameter_invalid_integer", "amount"),
                ("fractional amount", standard, "amount=5.5&currency=eur", 400, "invalid_request_error", "parameter_invalid_integer", "amount"),
                ("upper-case currency", standard, "amount=5&currency=EUR", 400, "invalid_request_error", "parameter_invalid_string", "currency"),
                ("long currency", standard, "amount=5&currency=euro", 400, "invalid_request_error", "parameter_invalid_string", "currency"),
                ("no currency", standard, "amount=5", 400, "invalid_request_error", "parameter_missing", "currency"),
                ("unknown parameter", standard, "amount=5&currency=eur&confirm=true", 400, "invalid_request_error", "parameter_unknown", "confirm"),
                (
                    "misspelt nested parameter", standard, "amount=5&currency=eur&automatic_payment_methods%5Benable%5D=true", 400,
                    "invalid_request_error", "parameter_unknown", "automatic_payment_methods[enable]"
                ),
                (
                    "not a boolean", standard, "amount=5&currency=eur&automatic_payment_methods%5Benabled%5D=yes", 400, "invalid_request_error", nil,
                    "automatic_payment_methods[enabled]"
                ),
                (
                    "long metadata key", standard, "amount=5&currency=eur&metadata%5B\(String(repeating: "k", count: 41))%5D=v", 400,
                    "invalid_request_error", "parameter_invalid_metadata", "metadata"
                ),
                (
                    "long metadata value", standard, "amount=5&currency=eur&metadata%5Bk%5D=\(String(repeating: "v", count: 501))", 400,
                    "invalid_request_error", "parameter_invalid_metadata", "metadata"
                ),
                ("broken escape", standard, "amount=5&currency=eur&metadata%5Bk%5D=%E9", 400, "invalid_request_error", "parameter_invalid", nil),
            ]
            for (index, (name, headers, body, status, type, code, param)) in cases.enumerated() {
                var headers = headers
                if headers["Idempotency-Key"] != nil { headers["Idempotency-Key"] = "refused-\(index)" }
                let answer = try await post(fake, body: body, headers: headers)
                #expect(answer.status == status, "\(name)")
                #expect(answer.error?["type"] as? String == type, "\(name)")
                #expect(answer.error?["code"] as? String == code, "\(name)")
                #expect(answer.error?["param"] as? String == param, "\(name)")
                #expect(answer.error?["message"] is String, "\(name)")
            }
            #expect(fake.paymentIntents.isEmpty)
            #expect(fake.requestCount == cases.count)
        }
    }

    @Test func createsThenReplaysOneKeyAndRefusesItForOtherParameters() async throws {
        try await FakeStripe.run { fake in
            let first = try await post(fake, headers: standardHeaders(fake, key: "once"))
            #expect(first.status == 200)
            #expect(first.headers.first(name: "Idempotent-Replayed") == nil)
            let id = try #require(first.json["id"] as? String)
            #expect(id.hasPrefix("pi_"))
            #expect((first.json["client_secret"] as? String)?.hasPrefix("\(id)_secret_") == true)
            #expect(first.json["status"] as? String == "requires_payment_method")
            #expect(fake.paymentIntents[id]?.metadata == ["top_up_id": "t-1"])
            #expect(fake.paymentIntents[id]?.automaticPaymentMethods == true)

            let again = try await post(fake, headers: standardHeaders(fake, key: "once"))
            #expect(again.status == 200)
            #expect(again.headers.first(name: "Idempotent-Replayed") == "true")
            #expect(again.json["id"] as? String == id)
            #expect(again.json["client_secret"] as? String == first.json["client_secret"] as? String)

            let other = try await post(fake, body: "amount=501&currency=eur", headers: standardHeaders(fake, key: "once"))
            #expect(other.status == 400)
            #expect(other.error?["type"] as? String == "idempotency_error")
            #expect(fake.paymentIntents.count == 1)
        }
    }

    @Test func injectedFailuresCarryStripesRetryHeadersAndCanComeAfterTheWork() async throws {
        try await FakeStripe.run { fake in
            fake.failNext(1, status: 503, shouldRetry: true, retryAfter: 3)
            fake.failNext(1, status: 500, shouldRetry: false, afterProcessing: true)
            let busy = try await post(fake, headers: standardHeaders(fake, key: "a"))
            #expect(busy.status == 503)
            #expect(busy.headers.first(name: "Stripe-Should-Retry") == "true")
            #expect(busy.headers.first(name: "Retry-After") == "3")
            #expect(fake.paymentIntents.isEmpty)
            let late = try await post(fake, headers: standardHeaders(fake, key: "b"))
            #expect(late.status == 500)
            #expect(late.headers.first(name: "Stripe-Should-Retry") == "false")
            #expect(fake.paymentIntents.count == 1)
            let replay = try await post(fake, headers: standardHeaders(fake, key: "b"))
            #expect(replay.headers.first(name: "Idempotent-Replayed") == "true")
        }
    }
}
