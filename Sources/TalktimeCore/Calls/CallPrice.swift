import Foundation

/// What a call costs, fixed when it is made: later changes of the Advisor's rate or the Licensee's shares never
/// touch a live call.
public struct CallPrice: Sendable, Equatable {
    public var currency: String
    public var ratePerMinute: Int64
    public var incrementSeconds: Int
    /// What one increment costs: the per-minute rate for the increment's share of a minute, rounded up to the
    /// minor unit (a started increment is paid in full, so its price never rounds to less than its time).
    public var incrementPrice: Int64
    public var commissionBasisPoints: Int
    public var platformFeeBasisPoints: Int

    public init(currency: String, ratePerMinute: Int64, incrementSeconds: Int, commissionBasisPoints: Int, platformFeeBasisPoints: Int) {
        self.currency = currency
        self.ratePerMinute = ratePerMinute
        self.incrementSeconds = incrementSeconds
        self.incrementPrice = Self.price(ratePerMinute: ratePerMinute, seconds: incrementSeconds)
        self.commissionBasisPoints = commissionBasisPoints
        self.platformFeeBasisPoints = platformFeeBasisPoints
    }

    init(
        currency: String, ratePerMinute: Int64, incrementSeconds: Int, incrementPrice: Int64, commissionBasisPoints: Int,
        platformFeeBasisPoints: Int
    ) {
        self.currency = currency
        self.ratePerMinute = ratePerMinute
        self.incrementSeconds = incrementSeconds
        self.incrementPrice = incrementPrice
        self.commissionBasisPoints = commissionBasisPoints
        self.platformFeeBasisPoints = platformFeeBasisPoints
    }

    /// ceil(rate × seconds / 60), at full width so no rate overflows.
    static func price(ratePerMinute: Int64, seconds: Int) -> Int64 {
        let product = ratePerMinute.multipliedFullWidth(by: Int64(seconds))
        let (quotient, remainder) = Int64(60).dividingFullWidth(product)
        return quotient + (remainder > 0 ? 1 : 0)
    }

    /// The ledger posting that pays increment `number` of `call`: its key makes the charge exactly-once.
    func charge(increment number: Int, of call: CallBillingRef, spreadBy spreadKey: String? = nil) throws -> Posting {
        let key = "call:\(call.id.uuidString.lowercased()):\(number)"
        return try Posting.callCharge(
            licenseeID: call.licenseeID, currency: currency, idempotencyKey: key, wallet: call.callerID, advisor: call.advisorID,
            gross: incrementPrice, platformFeeBasisPoints: platformFeeBasisPoints, commissionBasisPoints: commissionBasisPoints,
            metadata: ["call_id": call.id.uuidString.lowercased(), "increment": String(number)], spreadBy: spreadKey)
    }
}

/// The parties of a call a charge moves money between.
struct CallBillingRef: Sendable {
    var id: UUID
    var licenseeID: UUID
    var callerID: UUID
    var advisorID: UUID
}
