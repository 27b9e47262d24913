import Foundation

/// Why a call request was refused. Nothing changed when one of these is thrown, unless the case says so.
public enum CallError: Error, Sendable, Equatable {
    /// No such call, or not one the caller takes part in (another tenant's call looks the same).
    case callNotFound
    /// No such Advisor in this Licensee, or not approved.
    case advisorNotFound
    /// The Advisor is offline or busy.
    case advisorNotAvailable
    /// The caller already has a ringing or active call.
    case alreadyInCall
    /// The Licensee's concurrent-call limit is reached.
    case concurrentCallLimit(limit: Int)
    /// The wallet does not cover one increment (or holds a debt).
    case insufficientFunds(balance: Int64, required: Int64)
    /// The Licensee's licence is suspended or terminated.
    case licenceInactive
    /// The call is not in a state that allows this (accepting an ended call, cancelling an active one).
    case invalidState(Call.Status)
    /// The media service could not create the room; the call was cancelled.
    case roomUnavailable
    /// The change asked for is invalid (a rate outside the Licensee's bounds, presence `busy`).
    case invalidChange(String)
}
