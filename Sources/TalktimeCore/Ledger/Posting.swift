import Foundation

/// One money movement to record: two or more legs that sum to zero, under an idempotency key.
///
/// Build it with one of the constructors below, or `init` for anything else; `Ledger.post` checks it again.
public struct Posting: Sendable, Equatable {
    /// One account's share of a posting: positive credits the account, negative debits it.
    public struct Leg: Sendable, Equatable {
        public let account: LedgerAccountRef
        public let amount: Int64

        public init(_ account: LedgerAccountRef, _ amount: Int64) {
            self.account = account
            self.amount = amount
        }
    }

    public let licenseeID: UUID
    public let currency: String
    public let kind: LedgerTransactionKind
    /// Unique per Licensee: posting the same key again returns the first result and changes nothing.
    public let idempotencyKey: String
    public private(set) var legs: [Leg]
    /// Facts worth keeping with the transaction (the call, the top-up, the admin's reason). No secrets.
    public let metadata: [String: String]

    public init(
        licenseeID: UUID, currency: String, kind: LedgerTransactionKind, idempotencyKey: String, legs: [Leg],
        metadata: [String: String] = [:]
    ) throws(LedgerError) {
        guard legs.count >= 2 else { throw .invalidPosting("a posting needs at least two legs") }
        guard legs.allSatisfy({ $0.amount != 0 }) else { throw .invalidPosting("a leg of zero moves nothing") }
        guard Set(legs.map(\.account)).count == legs.count else { throw .invalidPosting("an account appears twice") }
        var sum: Int64 = 0
        for leg in legs {
            let (next, overflow) = sum.addingReportingOverflow(leg.amount)
            guard !overflow else { throw .invalidPosting("the amounts overflow") }
            sum = next
        }
        guard sum == 0 else { throw .invalidPosting("the legs sum to \(sum), not zero") }
        guard currency.count == 3, currency.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
            throw .invalidPosting("the currency must be ISO 4217")
        }
        guard (1...300).contains(idempotencyKey.utf8.count) else { throw .invalidPosting("the idempotency key must have 1 to 300 bytes") }
        self.licenseeID = licenseeID
        self.currency = currency
        self.kind = kind
        self.idempotencyKey = idempotencyKey
        self.legs = legs
        self.metadata = metadata
    }

    /// This posting with its sharded legs on `shard`, or unchanged if that would name one account twice. The
    /// movement is the same: a shard is where a sharded account's money is kept, not which account it is.
    func spread(onShard shard: Int16) -> Posting {
        let legs = legs.map { Leg($0.account.onShard(shard), $0.amount) }
        guard legs != self.legs, Set(legs.map(\.account)).count == legs.count else { return self }
        var spread = self
        spread.legs = legs
        return spread
    }

    /// Whether `account` may end this posting below zero, when the leg debits it.
    ///
    /// Refunds and disputes take back money the End User may already have spent: the wallet records the
    /// debt (and no call starts until it is paid). Nothing else overdraws an account that holds funds.
    func mayOverdraw(_ account: LedgerAccountRef) -> Bool {
        guard account.kind.holdsFunds else { return true }
        return account.kind == .wallet && (kind == .refund || kind == .dispute)
    }
}

extension Posting {
    /// A call increment paid from the End User's wallet, split as PRODUCT.md says: the platform's fee and the
    /// Licensee's commission are floors of their shares, the Advisor gets the rest, so the parts add up exactly.
    public static func callCharge(
        licenseeID: UUID, currency: String, idempotencyKey: String, wallet user: UUID, advisor: UUID, gross: Int64,
        platformFeeBasisPoints: Int, commissionBasisPoints: Int, metadata: [String: String] = [:], spreadBy spreadKey: String? = nil
    ) throws(LedgerError) -> Posting {
        // The hot accounts' shard follows the key, unless the caller spreads a whole batch over one shard.
        let spreadKey = spreadKey ?? idempotencyKey
        let split = try ChargeSplit(gross: gross, platformFeeBasisPoints: platformFeeBasisPoints, commissionBasisPoints: commissionBasisPoints)
        var legs = [Leg(.wallet(of: user), -gross)]
        if split.advisor > 0 { legs.append(Leg(.advisorEarnings(of: advisor), split.advisor)) }
        if split.licensee > 0 { legs.append(Leg(.licenseeEarnings(spreadBy: spreadKey), split.licensee)) }
        if split.platform > 0 { legs.append(Leg(.platformRevenue(spreadBy: spreadKey), split.platform)) }
        return try Posting(
            licenseeID: licenseeID, currency: currency, kind: .callCharge, idempotencyKey: idempotencyKey, legs: legs, metadata: metadata)
    }
}

/// How a call charge divides between the platform, the Licensee and the Advisor.
public struct ChargeSplit: Sendable, Equatable {
    public let platform: Int64
    public let licensee: Int64
    public let advisor: Int64

    public init(gross: Int64, platformFeeBasisPoints: Int, commissionBasisPoints: Int) throws(LedgerError) {
        guard gross > 0 else { throw .invalidPosting("a charge must be positive") }
        guard (0...10_000).contains(platformFeeBasisPoints), (0...10_000).contains(commissionBasisPoints),
            platformFeeBasisPoints + commissionBasisPoints <= 10_000
        else { throw .invalidPosting("the shares must lie between 0 and 100 % together") }
        platform = Self.floorShare(of: gross, basisPoints: platformFeeBasisPoints)
        licensee = Self.floorShare(of: gross, basisPoints: commissionBasisPoints)
        advisor = gross - platform - licensee
    }

    /// floor(gross × bps / 10 000) without overflow for any Int64 gross: the product is taken at full width.
    static func floorShare(of gross: Int64, basisPoints: Int) -> Int64 {
        let product = gross.multipliedFullWidth(by: Int64(basisPoints))
        return Int64(exactly: Int64(10_000).dividingFullWidth(product).quotient)!
    }
}
