import Foundation

/// Tells an Advisor's devices that a call is ringing. Never blocks or fails the request that started the call.
public protocol IncomingCallAlerting: Sendable {
    func announce(_ call: Call, callerName: String)
}
