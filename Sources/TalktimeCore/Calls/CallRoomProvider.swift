import Foundation
import Logging

/// The media service that hosts a call's room (LiveKit in production, a loopback fake in tests).
///
/// The domain asks it for rooms and for the tokens that let a participant join one. Credentials are passed
/// with every call because each Licensee may bring its own media account.
public protocol CallRoomProvider: Sendable {
    /// A short-lived token that lets one participant join one room, and nothing else (never an admin grant).
    func joinToken(_ grant: RoomJoinGrant, credentials: CallRoomCredentials, now: Date) async throws -> String

    /// Creates the room; creating a room that already exists succeeds.
    func createRoom(_ room: RoomSpecification, credentials: CallRoomCredentials, logger: Logger) async throws

    /// Deletes the room, disconnecting everyone in it; deleting a room that does not exist succeeds.
    func deleteRoom(named name: String, credentials: CallRoomCredentials, logger: Logger) async throws

    /// The identities of the participants in the room now (empty when the room does not exist).
    func participants(inRoom name: String, credentials: CallRoomCredentials, logger: Logger) async throws -> [String]

    /// Disconnects one participant from the room.
    func removeParticipant(
        identity: String, fromRoom name: String, credentials: CallRoomCredentials, logger: Logger
    ) async throws
}

/// The account at the media service that rooms and tokens of one Licensee belong to.
public struct CallRoomCredentials: Sendable, Equatable {
    /// The URL clients connect to (`wss://...`); the server API is reached at the same host over HTTPS.
    public var serverURL: String
    public var apiKey: String
    public var apiSecret: String
    /// Where the server API is when not at `serverURL`'s host (the platform's own deployment reached at an
    /// internal address, or a fake in tests). Never set for a Licensee's own project.
    public var apiBaseURL: String?

    public init(serverURL: String, apiKey: String, apiSecret: String, apiBaseURL: String? = nil) {
        self.serverURL = serverURL
        self.apiKey = apiKey
        self.apiSecret = apiSecret
        self.apiBaseURL = apiBaseURL
    }
}

/// What a join token allows: one identity into one room, for a short time (the token only gates joining).
public struct RoomJoinGrant: Sendable, Equatable {
    public var room: String
    /// The participant's identity in the room: the user's id.
    public var identity: String
    /// The name other participants see.
    public var displayName: String
    public var validFor: Duration
    public var canPublish: Bool
    public var canSubscribe: Bool
    public var canPublishData: Bool

    public init(
        room: String, identity: String, displayName: String, validFor: Duration = .seconds(600),
        canPublish: Bool = true, canSubscribe: Bool = true, canPublishData: Bool = true
    ) {
        self.room = room
        self.identity = identity
        self.displayName = displayName
        self.validFor = validFor
        self.canPublish = canPublish
        self.canSubscribe = canSubscribe
        self.canPublishData = canPublishData
    }
}

/// A room as the call needs it: two participants at most, closed soon after it empties.
public struct RoomSpecification: Sendable, Equatable {
    public var name: String
    public var maxParticipants: Int
    /// How long the room lives with nobody in it.
    public var emptyTimeout: Duration
    /// Opaque metadata stored with the room (the call's id); never personal data.
    public var metadata: String

    public init(name: String, maxParticipants: Int = 2, emptyTimeout: Duration = .seconds(60), metadata: String = "") {
        self.name = name
        self.maxParticipants = maxParticipants
        self.emptyTimeout = emptyTimeout
        self.metadata = metadata
    }
}

/// Why the media service did not do what was asked. Messages never hold a secret.
public enum CallRoomProviderError: Error, Sendable, Equatable {
    /// The service refused the request as invalid: retrying will not help.
    case rejected(status: Int, message: String)
    /// Our credentials were refused: an operator must fix the configuration.
    case notAuthorized
    /// The service is unreachable or failed after every retry.
    case unavailable
}

/// A signed event from the media service about a room (a LiveKit webhook), once verified.
public struct CallRoomEvent: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case participantJoined
        case participantLeft
        case roomFinished
        /// Any other event, acknowledged and ignored.
        case other(String)
    }

    /// The service's id of this delivery's event; repeats of one event carry the same id.
    public var id: String
    public var kind: Kind
    public var roomName: String
    /// The participant's identity, for participant events.
    public var participantIdentity: String?
    /// The media service's id of the participant's session: a participant who reconnects (with a fresh token)
    /// joins again in a new session under the same identity.
    public var participantSession: String?
    /// For a participant who left: the media service ended this session because the same participant is in
    /// the room in another one (they joined again, or were moved to another server), so they have not gone.
    public var sessionReplaced: Bool
    public var createdAt: Date

    public init(
        id: String, kind: Kind, roomName: String, participantIdentity: String?, participantSession: String? = nil,
        sessionReplaced: Bool = false, createdAt: Date
    ) {
        self.id = id
        self.kind = kind
        self.roomName = roomName
        self.participantIdentity = participantIdentity
        self.participantSession = participantSession
        self.sessionReplaced = sessionReplaced
        self.createdAt = createdAt
    }
}
