import Foundation

/// A call from an End User to an Advisor, as stored.
public struct Call: Sendable, Equatable {
    public enum Status: String, Sendable, Codable {
        case ringing, active, ended, missed, declined, cancelled

        /// Ringing or active: the call holds its caller, its Advisor and a room.
        public var isLive: Bool { self == .ringing || self == .active }
    }

    /// Why a call is over.
    public enum EndReason: String, Sendable, Codable {
        case callerEnded = "caller_ended"
        case advisorEnded = "advisor_ended"
        /// The next increment could not be paid; the call ran until its paid time was over.
        case insufficientFunds = "insufficient_funds"
        case participantLeft = "participant_left"
        case roomFinished = "room_finished"
        /// Nobody was left in the room, found by reconciliation after the media service's events were lost.
        case roomEmpty = "room_empty"
        /// The media service could not create the room.
        case roomUnavailable = "room_unavailable"
        case declined, cancelled, missed
    }

    public var id: UUID
    public var licenseeID: UUID
    public var callerID: UUID
    public var advisorID: UUID
    public var status: Status
    public var roomName: String
    public var price: CallPrice
    public var createdAt: Date
    public var ringDeadline: Date
    public var answeredAt: Date?
    public var billedIncrements: Int
    public var billedAmount: Int64
    /// The end of the paid time of an active call.
    public var paidUntil: Date?
    /// Set when the next increment could not be paid: the call ends then.
    public var endsAt: Date?
    public var endedAt: Date?
    public var endReason: EndReason?

    /// Whether `userID` takes part in the call.
    public func involves(_ userID: UUID) -> Bool { userID == callerID || userID == advisorID }
}

extension Call {
    /// The two people on a call.
    enum Party {
        case caller, advisor
    }

    /// The identity a user has in call rooms (in their tokens and in the media service's events).
    static func roomIdentity(of userID: UUID) -> String { userID.uuidString.lowercased() }

    /// The party of this call whose room identity is `identity`, if it is either.
    func party(identifiedBy identity: String) -> Party? {
        switch identity {
        case Self.roomIdentity(of: callerID): .caller
        case Self.roomIdentity(of: advisorID): .advisor
        default: nil
        }
    }
}
