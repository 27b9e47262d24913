import Foundation
import JWTKit
import TalktimeCore

/// The claims of a LiveKit access token, as livekit-server and its SDKs read them: the API key as `iss`, the
/// participant's identity as `sub`, a `video` grant, and for webhooks the body's `sha256`.
struct LiveKitClaims: JWTPayload, Equatable {
    var iss: IssuerClaim
    var sub: SubjectClaim?
    var nbf: NotBeforeClaim?
    var exp: ExpirationClaim
    var name: String?
    var video: LiveKitVideoGrant?
    /// Webhooks only: the standard base64 SHA-256 of the raw body the token vouches for.
    var sha256: String?

    /// Claims are checked by the callers against their own clocks; JWTKit checks only the signature.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// LiveKit's `video` grant: what the bearer may do in which room. Absent fields are false, as in LiveKit.
struct LiveKitVideoGrant: Codable, Equatable, Sendable {
    var roomCreate: Bool?
    var roomList: Bool?
    var roomAdmin: Bool?
    var roomJoin: Bool?
    var room: String?
    var canPublish: Bool?
    var canSubscribe: Bool?
    var canPublishData: Bool?

    /// For a client: join this one room, publish and subscribe as allowed, nothing administrative.
    static func join(_ grant: RoomJoinGrant) -> Self {
        LiveKitVideoGrant(
            roomJoin: true, room: grant.room, canPublish: grant.canPublish, canSubscribe: grant.canSubscribe,
            canPublishData: grant.canPublishData)
    }

    /// For the server API: create and delete rooms (livekit-server asks `roomCreate` for both).
    static let createRooms = LiveKitVideoGrant(roomCreate: true)

    /// For the server API: list and remove the participants of one room.
    static func administer(room: String) -> Self { LiveKitVideoGrant(roomAdmin: true, room: room) }
}
