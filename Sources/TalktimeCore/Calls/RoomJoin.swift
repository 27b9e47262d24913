import Foundation

/// What a participant's app needs to join a call's room: where, which room, and a token that lets it in.
public struct RoomJoin: Sendable, Equatable {
    public var url: String
    public var room: String
    public var token: String
}

/// A call together with the room join of the participant who asked.
public struct CallWithJoin: Sendable, Equatable {
    public var call: Call
    public var join: RoomJoin
}
