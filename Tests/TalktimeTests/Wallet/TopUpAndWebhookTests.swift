import Foundation
import Hummingbird
import TalktimeTestSupport
import Testing

@testable import Talktime

/// Top-ups through a fake Stripe, and Stripe's webhooks: signatures, once-only crediting, refunds, disputes,
/// repeats and reordering.
@Suite struct TopUpAndWebhookTests {
    @Test func aTopUpCreditsTheWalletOnceWhenItsPaymentSucceeds() async throws {
        try await PaymentWorld.run { payments in
            let reply = try await payments.topUp(1_000, key: "top-up-1")
            #expect(reply.status == .created, "\(reply.text)")
            let paymentID = try #require(reply.string("payment_intent_id"))
            let intent = try #require(payments.stripe.paymentIntents[paymentID])
            #expect(intent.amount == 1_000 && intent.currency == "eur")
            #expect(intent.metadata["top_up_id"] == reply.string("id")?.lowercased())
            #expect(reply.string("client_secret") == intent.clientSecret)
            #expect(reply.string("status") == "pending")
            // Not a cent before Stripe says the money arrived.
            #expect(try await payments.balance() == 0)

            let event = StripeEventFixtures.paymentIntentSucceeded(eventID: "evt_a", paymentIntentID: paymentID, amount: 1_000)
            for _ in 0..<5 { #expect(try await payments.deliver(event).status == .ok) }
            // Another event about the same payment (Stripe may send one) credits nothing more.
            let other = StripeEventFixtures.paymentIntentSucceeded(eventID: "evt_b", paymentIntentID: paymentID, amount: 1_000)
            #expect(try await payments.deliver(other).status == .ok)
            #expect(try await payments.balance() == 1_000)
            #expect(try await payments.count("SELECT count(*) FROM ledger_transactions WHERE kind = 'topup'") == 1)
            #expect(try await payments.count("SELECT count(*) FROM top_ups WHERE status = 'succeeded'") == 1)

            // The same request again replays the first answer and creates no second payment.
            let replay = try await payments.topUp(1_000, key: "top-up-1")
            #expect(replay.body == reply.body)
            #expect(payments.stripe.paymentIntents.count == 1)
        }
    }

    @Test func topUpsOutsideTheBoundsOrByOthersAreRefused() async throws {
        try await PaymentWorld.run { payments in
            for amount: Int64 in [0, -5, 499, 50_001] {
                let reply = try await payments.topUp(amount, key: "bad-\(amount)")
                #expect(reply.status == .unprocessableContent, "\(amount): \(reply.text)")
            }
            let admin = try await payments.http.send(
                .post, "/v1/wallet/top-ups", json: ["amount": 1_000], token: payments.world.alpha.adminToken, headers: [.idempotencyKey: "k"])
            #expect(admin.status == .forbidden)
            let noKey = try await payments.http.send(.post, "/v1/wallet/top-ups", json: ["amount": 1_000], token: payments.world.alpha.endUserToken)
            #expect(noKey.status == .badRequest)
            #expect(payments.stripe.paymentIntents.isEmpty)
        }
    }

    @Test func whenStripeIsDownTheSameKeyLaterMakesOnePayment() async throws {
        try await PaymentWorld.run { payments in
            payments.stripe.failNext(2, status: 503)
            let down = try await payments.topUp(2_000, key: "retry-me")
            #expect(down.status == .serviceUnavailable, "\(down.text)")
            #expect(down.headers[.retryAfter] != nil)
            #expect(!down.text.contains(payments.stripe.secretKey))
            let later = try await payments.topUp(2_000, key: "retry-me")
            #expect(later.status == .created, "\(later.text)")
            #expect(payments.stripe.paymentIntents.count == 1)
            #expect(try await payments.count("SELECT count(*) FROM top_ups") == 1)
            // Every attempt reached Stripe with the same idempotency key.
            #expect(Set(payments.stripe.received.map(\.idempotencyKey)).count == 1)
        }
    }

    @Test func forgedStaleMutatedAndUnsignedWebhooksChangeNothing() async throws {
        try await PaymentWorld.run { payments in
            let reply = try await payments.topUp(1_000, key: "k")
            let paymentID = try #require(reply.string("payment_intent_id"))
            let body = StripeEventFixtures.paymentIntentSucceeded(eventID: "evt_forged", paymentIntentID: paymentID, amount: 1_000)
            var mutated = body
            let amount = Array("1000".utf8)
            if let range = mutated.firstRange(of: amount) { mutated.replaceSubrange(range, with: Array("9000".utf8)) }
            let signedNow = StripeWebhookSigner.header(for: body, secrets: [PaymentWorld.webhookSecret])
            let attempts: [(String, [UInt8], String?)] = [
                ("forged", body, StripeWebhookSigner.header(for: body, secrets: ["whsec_attacker_guess_0000"])),
                ("stale", body, StripeWebhookSigner.header(for: body, secrets: [PaymentWorld.webhookSecret], timestamp: Date() - 301)),
                ("mutated", mutated, signedNow),
                ("missing header", body, ""),
            ]
            for (name, payload, header) in attempts {
                let answer = try await payments.deliver(payload, header: header)
                #expect(answer.status == .badRequest, "\(name): \(answer.text)")
                #expect(answer.string("type") == "urn:talktime:problem:invalid-webhook")
            }
            #expect(try await payments.balance() == 0)
            #expect(try await payments.count("SELECT count(*) FROM payment_events") == 0)
            // The genuine delivery still works afterwards: nothing was marked as seen.
            #expect(try await payments.deliver(body).status == .ok)
            #expect(try await payments.balance() == 1_000)
            #expect(try await payments.http.metric("talktime_webhook_events_total", ["source": "stripe", "outcome": "rejected"]) == 4)
            #expect(try await payments.http.metric("talktime_webhook_events_total", ["source": "stripe", "outcome": "applied"]) == 1)
        }
    }

    @Test func refundsAndDisputesTakeMoneyBackAndReorderingEndsTheSame() async throws {
        try await PaymentWorld.run { payments in
            let reply = try await payments.topUp(1_000, key: "k")
            let pi = try #require(reply.string("payment_intent_id"))
            func refund(_ id: String, _ cumulative: Int64) -> [UInt8] {
                StripeEventFixtures.chargeRefunded(eventID: id, chargeID: "ch_1", paymentIntentID: pi, amount: 1_000, amountRefunded: cumulative)
            }
            func dispute(_ id: String, _ type: String, _ dispute: String, _ amount: Int64, _ status: String) -> [UInt8] {
                StripeEventFixtures.dispute(
                    eventID: id, type: type, disputeID: dispute, chargeID: "ch_1", paymentIntentID: pi, amount: amount, status: status)
            }
            // The refund of 500 (cumulative) arrives before the one of 300, and before the payment's success.
            #expect(try await payments.deliver(refund("evt_r2", 500)).status == .ok)
            #expect(try await payments.balance() == -500)
            #expect(
                try await payments.deliver(StripeEventFixtures.paymentIntentSucceeded(eventID: "evt_s", paymentIntentID: pi, amount: 1_000)).status
                    == .ok)
            #expect(try await payments.deliver(refund("evt_r1", 300)).status == .ok)
            #expect(try await payments.balance() == 500)

            // A dispute closed (won) before its opening arrives: taken and returned, and the late opening changes nothing.
            #expect(try await payments.deliver(dispute("evt_d2", "charge.dispute.closed", "dp_1", 200, "won")).status == .ok)
            #expect(try await payments.deliver(dispute("evt_d1", "charge.dispute.created", "dp_1", 200, "needs_response")).status == .ok)
            #expect(try await payments.balance() == 500)
            // A lost dispute keeps the money taken, even below zero: the debt is recorded.
            #expect(try await payments.deliver(dispute("evt_d3", "charge.dispute.created", "dp_2", 600, "needs_response")).status == .ok)
            #expect(try await payments.deliver(dispute("evt_d4", "charge.dispute.closed", "dp_2", 600, "lost")).status == .ok)
            #expect(try await payments.balance() == -100)

            // Unknown types are acknowledged and ignored; a failed payment of another top-up marks it.
            #expect(try await payments.deliver(StripeEventFixtures.unknown(eventID: "evt_u")).status == .ok)
            let other = try #require(try await payments.topUp(700, key: "k2").string("payment_intent_id"))
            #expect(try await payments.deliver(StripeEventFixtures.paymentIntentFailed(eventID: "evt_f", paymentIntentID: other)).status == .ok)
            #expect(try await payments.count("SELECT count(*) FROM top_ups WHERE status = 'failed' AND failure_code = 'card_declined'") == 1)
            // An event about a payment Talktime never started is acknowledged and changes nothing.
            #expect(
                try await payments.deliver(StripeEventFixtures.paymentIntentSucceeded(eventID: "evt_x", paymentIntentID: "pi_elsewhere", amount: 5))
                    .status == .ok)
            #expect(try await payments.balance() == -100)
        }
    }
}
