import Foundation
import TalktimeCore
import TalktimeTestSupport
import Testing

@testable import TalktimeIntegrations

@Suite struct StripeEventDecoderTests {
    @Test func decodesEveryTypeTalktimeActsOn() throws {
        let cases: [([UInt8], PaymentEvent)] = [
            (
                StripeEventFixtures.paymentIntentSucceeded(eventID: "evt_1", paymentIntentID: "pi_1", amount: 500),
                .paymentSucceeded(paymentID: "pi_1", amountReceived: 500, currency: "EUR")
            ),
            (
                StripeEventFixtures.paymentIntentFailed(eventID: "evt_2", paymentIntentID: "pi_1"),
                .paymentFailed(paymentID: "pi_1", failureCode: "card_declined")
            ),
            (
                StripeEventFixtures.chargeRefunded(eventID: "evt_3", chargeID: "ch_1", paymentIntentID: "pi_1", amount: 500, amountRefunded: 200),
                .chargeRefunded(chargeID: "ch_1", paymentID: "pi_1", amountRefunded: 200, currency: "EUR")
            ),
            (
                StripeEventFixtures.dispute(
                    eventID: "evt_4", type: "charge.dispute.created", disputeID: "dp_1", chargeID: "ch_1", paymentIntentID: "pi_1", amount: 500,
                    status: "needs_response"),
                .disputeCreated(disputeID: "dp_1", paymentID: "pi_1", amount: 500, currency: "EUR")
            ),
            (
                StripeEventFixtures.dispute(
                    eventID: "evt_5", type: "charge.dispute.closed", disputeID: "dp_1", chargeID: "ch_1", paymentIntentID: "pi_1", amount: 500,
                    status: "won"),
                .disputeClosed(disputeID: "dp_1", paymentID: "pi_1", amount: 500, currency: "EUR", status: "won")
            ),
            (StripeEventFixtures.unknown(eventID: "evt_6"), .ignored(type: "customer.created")),
        ]
        for (body, expected) in cases {
            #expect(try StripeEventDecoder.decode(body).event == expected)
        }
        #expect(try StripeEventDecoder.decode(cases[0].0).id == "evt_1")
    }

    @Test func aKnownTypeWithoutWhatTalktimeNeedsIsAnError() {
        let bodies = [
            #"{"id":"evt_1","type":"payment_intent.succeeded","created":1,"data":{"object":{"id":"pi_1","currency":"eur"}}}"#,
            #"{"id":"evt_1","type":"payment_intent.succeeded","created":1,"data":{"object":{"id":"pi_1","amount_received":-5,"currency":"eur"}}}"#,
            #"{"id":"evt_1","type":"payment_intent.succeeded","created":1,"data":{"object":{"id":"pi_1","amount_received":"5","currency":"eur"}}}"#,
            #"{"id":"evt_1","type":"charge.refunded","created":1,"data":{"object":{"id":"ch_1","amount_refunded":5,"currency":"eur"}}}"#,
            #"{"id":"evt_1","type":"charge.dispute.closed","created":1,"data":{"object":{"id":"dp_1","payment_intent":"pi_1","amount":5,"currency":"eu"}}}"#,
            #"{"id":"","type":"payment_intent.succeeded","created":1,"data":{"object":{}}}"#,
            #"{"type":"payment_intent.succeeded"}"#,
            "not json",
        ]
        for body in bodies {
            #expect(throws: (any Error).self, "\(body)") { try StripeEventDecoder.decode(Array(body.utf8)) }
        }
    }

    @Test func anUnknownTypeIsIgnoredWhateverItsObjectHolds() throws {
        let body = #"{"id":"evt_9","type":"invoice.paid","created":1,"data":{"object":{"amount":{"weird":true},"status":7}}}"#
        #expect(try StripeEventDecoder.decode(Array(body.utf8)).event == .ignored(type: "invoice.paid"))
    }
}
