import Foundation

/// A payment provider's event that moves money, decoded from a verified webhook.
///
/// Amounts are minor units; currencies ISO 4217 upper case. Events may arrive twice, late or out of order:
/// each case carries what is needed to apply it idempotently (cumulative amounts, object ids).
public enum PaymentEvent: Sendable, Equatable {
    /// `payment_intent.succeeded`: credit the top-up's wallet once per payment.
    case paymentSucceeded(paymentID: String, amountReceived: Int64, currency: String)
    /// `payment_intent.payment_failed`.
    case paymentFailed(paymentID: String, failureCode: String?)
    /// `charge.refunded`: `amountRefunded` is the charge's cumulative refunded amount so far.
    case chargeRefunded(chargeID: String, paymentID: String, amountRefunded: Int64, currency: String)
    /// `charge.dispute.created`: the disputed amount is taken from the wallet.
    case disputeCreated(disputeID: String, paymentID: String, amount: Int64, currency: String)
    /// `charge.dispute.closed`: `won` (or `warning_closed`) returns the amount; `lost` keeps it taken.
    case disputeClosed(disputeID: String, paymentID: String, amount: Int64, currency: String, status: String)
    /// Any other type: acknowledged and ignored.
    case ignored(type: String)
}

/// One delivered event: the provider's unique id (the inbox key), its type and creation time, and what it means.
public struct PaymentEventEnvelope: Sendable, Equatable {
    public var id: String
    public var type: String
    public var created: Date
    public var event: PaymentEvent

    public init(id: String, type: String, created: Date, event: PaymentEvent) {
        self.id = id
        self.type = type
        self.created = created
        self.event = event
    }
}
