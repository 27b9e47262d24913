import Foundation
import Logging
import Synchronization
import TalktimeCore

/// An in-memory media service for tests of the call domain that are not about the media service: it keeps the
/// rooms asked for, refuses credentials other than the ones it was made with, and lets a test put people in a
/// room or make the next request fail. (Tests of the LiveKit client use the loopback `FakeLiveKit`.)
public final class RecordingCallRooms: CallRoomProvider, Sendable {
    public static let credentials = CallRoomCredentials(
        serverURL: "wss://media.test", apiKey: "APIrecording", apiSecret: "recording-secret-0123456789abcdef0123")

    private struct State {
        var rooms: [String: [String]] = [:]
        var deleted: [String] = []
        var failNext = 0
    }

    private let state = Mutex(State())

    public init() {}

    public var openRooms: Set<String> { state.withLock { Set($0.rooms.keys) } }
    public var deletedRooms: [String] { state.withLock { $0.deleted } }

    public func failNextRequests(_ count: Int) { state.withLock { $0.failNext = count } }

    public func setParticipants(_ identities: [String], inRoom name: String) { state.withLock { $0.rooms[name] = identities } }

    public func joinToken(_ grant: RoomJoinGrant, credentials: CallRoomCredentials, now: Date) async throws -> String {
        try check(credentials, fail: false)
        return "join:\(grant.room):\(grant.identity)"
    }

    public func createRoom(_ room: RoomSpecification, credentials: CallRoomCredentials, logger: Logger) async throws {
        try check(credentials)
        state.withLock { if $0.rooms[room.name] == nil { $0.rooms[room.name] = [] } }
    }

    public func deleteRoom(named name: String, credentials: CallRoomCredentials, logger: Logger) async throws {
        try check(credentials)
        state.withLock {
            $0.rooms[name] = nil
            $0.deleted.append(name)
        }
    }

    public func participants(inRoom name: String, credentials: CallRoomCredentials, logger: Logger) async throws -> [String] {
        try check(credentials)
        return state.withLock { $0.rooms[name] ?? [] }
    }

    public func removeParticipant(identity: String, fromRoom name: String, credentials: CallRoomCredentials, logger: Logger) async throws {
        try check(credentials)
        state.withLock { $0.rooms[name]?.removeAll { $0 == identity } }
    }

    private func check(_ credentials: CallRoomCredentials, fail: Bool = true) throws {
        guard credentials == Self.credentials else { throw CallRoomProviderError.notAuthorized }
        guard fail else { return }
        let failing = state.withLock { state -> Bool in
            guard state.failNext > 0 else { return false }
            state.failNext -= 1
            return true
        }
        if failing { throw CallRoomProviderError.unavailable }
    }
}
