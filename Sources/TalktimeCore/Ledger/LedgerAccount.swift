import Foundation

/// What a ledger account holds money for.
public enum LedgerAccountKind: String, Sendable, CaseIterable, Codable {
    /// An End User's prepaid money.
    case wallet
    /// What an Advisor has earned and not yet been paid.
    case advisorEarnings = "advisor_earnings"
    /// What a Licensee has earned in commission.
    case licenseeEarnings = "licensee_earnings"
    /// The platform's fees earned from one Licensee.
    case platformRevenue = "platform_revenue"
    /// The counterpart of money coming in from and going back to the payment provider.
    case paymentClearing = "payment_clearing"
    /// Earnings sent to a payout and not yet settled.
    case payoutsInTransit = "payouts_in_transit"
    /// The counterpart of credits and debits an admin makes by hand.
    case promotions

    /// Accounts that belong to one user; the others belong to the Licensee.
    public var isPersonal: Bool { self == .wallet || self == .advisorEarnings }

    /// Accounts touched by every call charge, split into shards so concurrent charges do not queue on one row.
    public var isSharded: Bool { self == .licenseeEarnings || self == .platformRevenue }

    /// Accounts holding someone's money, which no posting may take below zero (a wallet's one exception is in
    /// `Posting.mayOverdraw`). The others are counterparts of the outside world and go negative by design.
    public var holdsFunds: Bool {
        switch self {
        case .wallet, .advisorEarnings, .licenseeEarnings, .platformRevenue: true
        case .paymentClearing, .payoutsInTransit, .promotions: false
        }
    }
}

/// Names one ledger account of a Licensee: its kind, its owner (the user, or nil for the Licensee itself) and,
/// for the sharded kinds, the shard.
public struct LedgerAccountRef: Sendable, Hashable, CustomStringConvertible {
    /// How many rows each sharded account is split into. Raising it later is safe: a balance is the sum of
    /// whatever shards exist.
    public static let shardCount: Int16 = 16

    public let kind: LedgerAccountKind
    public let userID: UUID?
    public let shard: Int16

    init(kind: LedgerAccountKind, userID: UUID?, shard: Int16 = 0) {
        self.kind = kind
        self.userID = userID
        self.shard = shard
    }

    public static func wallet(of user: UUID) -> Self { Self(kind: .wallet, userID: user) }
    public static func advisorEarnings(of advisor: UUID) -> Self { Self(kind: .advisorEarnings, userID: advisor) }
    public static let paymentClearing = Self(kind: .paymentClearing, userID: nil)
    public static let payoutsInTransit = Self(kind: .payoutsInTransit, userID: nil)
    public static let promotions = Self(kind: .promotions, userID: nil)

    /// The Licensee's earnings, on the shard that `spreadKey` (any stable text, such as an idempotency key) picks.
    public static func licenseeEarnings(spreadBy spreadKey: String) -> Self {
        Self(kind: .licenseeEarnings, userID: nil, shard: shard(for: spreadKey))
    }

    /// Platform revenue from the Licensee, on the shard that `spreadKey` picks.
    public static func platformRevenue(spreadBy spreadKey: String) -> Self {
        Self(kind: .platformRevenue, userID: nil, shard: shard(for: spreadKey))
    }

    /// FNV-1a: stable across processes and releases, unlike `hashValue`.
    static func shard(for key: String) -> Int16 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return Int16(hash % UInt64(shardCount))
    }

    /// The row's `owner_id`: the user, or the Licensee for Licensee-wide accounts.
    func ownerID(licenseeID: UUID) -> UUID { userID ?? licenseeID }

    /// This account on `shard`, if its kind is sharded; otherwise itself.
    func onShard(_ shard: Int16) -> Self { kind.isSharded ? Self(kind: kind, userID: userID, shard: shard) : self }

    /// The account whatever its shard: the shards of one account are one account to anyone outside the ledger.
    var unsharded: Self { onShard(0) }

    public var description: String {
        [kind.rawValue, userID.map { $0.uuidString.lowercased() }, kind.isSharded ? "shard \(shard)" : nil]
            .compactMap { $0 }.joined(separator: " ")
    }
}
