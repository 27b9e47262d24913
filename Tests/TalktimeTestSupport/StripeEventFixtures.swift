import Foundation

/// Event bodies shaped as Stripe sends them (`object: "event"`, `api_version`, `data.object`), for tests.
public enum StripeEventFixtures {
    /// `payment_intent.succeeded`: `amount_received` equals `amount`, metadata as the top-up set it.
    public static func paymentIntentSucceeded(
        eventID: String, paymentIntentID: String, amount: Int64, currency: String = "eur", metadata: [String: String] = [:]
    ) -> [UInt8] {
        event(
            eventID, "payment_intent.succeeded",
            [
                "id": paymentIntentID, "object": "payment_intent", "amount": amount, "amount_received": amount, "currency": currency,
                "status": "succeeded", "metadata": metadata,
            ])
    }

    /// `payment_intent.payment_failed`, with `last_payment_error.code`.
    public static func paymentIntentFailed(eventID: String, paymentIntentID: String, code: String = "card_declined") -> [UInt8] {
        event(
            eventID, "payment_intent.payment_failed",
            [
                "id": paymentIntentID, "object": "payment_intent", "amount": 1000, "amount_received": 0, "currency": "eur",
                "status": "requires_payment_method", "last_payment_error": ["code": code, "type": "card_error"],
            ])
    }

    /// `charge.refunded`: `amountRefunded` is cumulative, as on Stripe's Charge.
    public static func chargeRefunded(
        eventID: String, chargeID: String, paymentIntentID: String, amount: Int64, amountRefunded: Int64, currency: String = "eur"
    ) -> [UInt8] {
        event(
            eventID, "charge.refunded",
            [
                "id": chargeID, "object": "charge", "amount": amount, "amount_refunded": amountRefunded, "currency": currency,
                "payment_intent": paymentIntentID, "refunded": amountRefunded == amount, "status": "succeeded",
            ])
    }

    /// A `charge.dispute.*` event of `type` for a Dispute object.
    public static func dispute(
        eventID: String, type: String, disputeID: String, chargeID: String, paymentIntentID: String, amount: Int64,
        status: String, currency: String = "eur"
    ) -> [UInt8] {
        event(
            eventID, type,
            [
                "id": disputeID, "object": "dispute", "amount": amount, "charge": chargeID, "payment_intent": paymentIntentID,
                "currency": currency, "status": status, "reason": "fraudulent",
            ])
    }

    /// `charge.dispute.created`, as Stripe sends it when a cardholder disputes the payment.
    public static func disputeCreated(
        eventID: String, disputeID: String, chargeID: String, paymentIntentID: String, amount: Int64, status: String = "needs_response",
        currency: String = "eur"
    ) -> [UInt8] {
        dispute(
            eventID: eventID, type: "charge.dispute.created", disputeID: disputeID, chargeID: chargeID, paymentIntentID: paymentIntentID,
            amount: amount, status: status, currency: currency)
    }

    /// `charge.dispute.closed`, with its final `status` (`won`, `lost`, `warning_closed`).
    public static func disputeClosed(
        eventID: String, disputeID: String, chargeID: String, paymentIntentID: String, amount: Int64, status: String, currency: String = "eur"
    ) -> [UInt8] {
        dispute(
            eventID: eventID, type: "charge.dispute.closed", disputeID: disputeID, chargeID: chargeID, paymentIntentID: paymentIntentID,
            amount: amount, status: status, currency: currency)
    }

    /// A type Talktime does not act on (`customer.created` unless told).
    public static func unknown(eventID: String, type: String = "customer.created") -> [UInt8] {
        event(eventID, type, ["id": "cus_123", "object": "customer", "email": nil as String? as Any])
    }

    /// The envelope Stripe wraps every object in.
    static func event(_ id: String, _ type: String, _ object: [String: Any]) -> [UInt8] {
        let event: [String: Any] = [
            "id": id, "object": "event", "api_version": "2024-06-20", "created": Int(Date().timeIntervalSince1970),
            "livemode": false, "pending_webhooks": 1, "type": type, "data": ["object": object],
            "request": ["id": NSNull(), "idempotency_key": NSNull()],
        ]
        return Array(try! JSONSerialization.data(withJSONObject: event, options: [.sortedKeys]))
    }
}
