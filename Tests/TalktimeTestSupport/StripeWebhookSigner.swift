import Crypto
import Foundation

/// Signs webhook bodies as Stripe does, independently of Talktime's verifier: `t=<unix>,v1=<hex>...`, each
/// `v1` the hex HMAC-SHA256 of `"<t>.<body>"` keyed with a whole `whsec_...` secret.
public enum StripeWebhookSigner {
    public static func header(for body: [UInt8], secrets: [String], timestamp: Date = Date(), v0: Bool = false) -> String {
        let seconds = Int(timestamp.timeIntervalSince1970)
        var signed = Array("\(seconds).".utf8)
        signed.append(contentsOf: body)
        var parts = ["t=\(seconds)"]
        for secret in secrets {
            let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data(secret.utf8)))
            parts.append("v1=" + mac.map { String(format: "%02x", $0) }.joined())
        }
        if v0 { parts.append("v0=" + String(repeating: "ab", count: 32)) }
        return parts.joined(separator: ",")
    }
}

/// Event bodies shaped as Stripe sends them (`object: "event"`, `api_version`, `data.object`), for tests.
public enum StripeEventFixtures {
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

    public static func paymentIntentFailed(eventID: String, paymentIntentID: String, code: String = "card_declined") -> [UInt8] {
        event(
            eventID, "payment_intent.payment_failed",
            [
                "id": paymentIntentID, "object": "payment_intent", "amount": 1000, "amount_received": 0, "currency": "eur",
                "status": "requires_payment_method", "last_payment_error": ["code": code, "type": "card_error"],
            ])
    }

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

    public static func unknown(eventID: String, type: String = "customer.created") -> [UInt8] {
        event(eventID, type, ["id": "cus_123", "object": "customer", "email": nil as String? as Any])
    }

    static func event(_ id: String, _ type: String, _ object: [String: Any]) -> [UInt8] {
        let event: [String: Any] = [
            "id": id, "object": "event", "api_version": "2024-06-20", "created": Int(Date().timeIntervalSince1970),
            "livemode": false, "pending_webhooks": 1, "type": type, "data": ["object": object],
            "request": ["id": NSNull(), "idempotency_key": NSNull()],
        ]
        return Array(try! JSONSerialization.data(withJSONObject: event, options: [.sortedKeys]))
    }
}
