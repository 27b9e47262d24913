import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import JWTKit
import NIOCore
import Synchronization
import TalktimeCore
import TalktimeSecurity

/// LiveKit's server API (Twirp RoomService) on loopback, for tests: it checks what livekit-server checks and
/// answers as it does.
///
/// Every request must carry `Authorization: Bearer <jwt>`, HS256-signed with the fake's secret, `iss` its API
/// key, within `nbf`/`exp`, and the grant the method needs: `roomCreate` for CreateRoom and DeleteRoom,
/// `roomAdmin` for the very room of ListParticipants and RemoveParticipant (a token for another room is
/// refused). Rooms keep their limits; tests put participants in them, read them, make requests fail, and sign
/// webhooks as livekit-server does. Its verification is written here, apart from Talktime's, on purpose.
public final class FakeLiveKit: Sendable {
    /// A room as created.
    public struct Room: Sendable, Equatable {
        public let name: String
        public let maxParticipants: Int
        public let emptyTimeout: Int
        public let metadata: String
        public var participants: [String]

        public init(name: String, maxParticipants: Int, emptyTimeout: Int, metadata: String, participants: [String]) {
            self.name = name
            self.maxParticipants = maxParticipants
            self.emptyTimeout = emptyTimeout
            self.metadata = metadata
            self.participants = participants
        }
    }

    /// One request as received: the method and the grant of its token, once the token was verified.
    public struct Received: Sendable {
        public let method: String
        public let status: Int
        public let grant: Grant?
    }

    /// The `video` grant of a LiveKit token.
    public struct Grant: Codable, Sendable, Hashable {
        public var roomCreate: Bool?
        public var roomList: Bool?
        public var roomAdmin: Bool?
        public var roomJoin: Bool?
        public var room: String?
        public var canPublish: Bool?
        public var canSubscribe: Bool?
        public var canPublishData: Bool?

        public init(
            roomCreate: Bool? = nil, roomList: Bool? = nil, roomAdmin: Bool? = nil, roomJoin: Bool? = nil, room: String? = nil,
            canPublish: Bool? = nil, canSubscribe: Bool? = nil, canPublishData: Bool? = nil
        ) {
            self.roomCreate = roomCreate
            self.roomList = roomList
            self.roomAdmin = roomAdmin
            self.roomJoin = roomJoin
            self.room = room
            self.canPublish = canPublish
            self.canSubscribe = canSubscribe
            self.canPublishData = canPublishData
        }
    }

    /// The claims of a LiveKit token as the fake reads them.
    public struct Claims: JWTPayload, Equatable {
        public var iss: IssuerClaim
        public var sub: SubjectClaim?
        public var nbf: NotBeforeClaim?
        public var exp: ExpirationClaim
        public var name: String?
        public var video: Grant?
        public var sha256: String?

        public func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    struct State {
        var rooms: [String: Room] = [:]
        var deleted: [String] = []
        var received: [Received] = []
        var failures: [Int] = []
    }

    final class Store: Sendable {
        let state = Mutex(State())
        let apiKey = "APIfake\(UUID().uuidString.prefix(8))"
        let apiSecret = "fake-livekit-secret-\(UUID().uuidString)"
    }

    let store: Store
    public let port: Int

    private init(store: Store, port: Int) {
        self.store = store
        self.port = port
    }

    public var apiKey: String { store.apiKey }
    public var apiSecret: String { store.apiSecret }
    /// The account as Talktime is given it: clients connect over `ws://`, and the server API is at the same
    /// host over `http://`, as with a real deployment.
    public var credentials: CallRoomCredentials {
        CallRoomCredentials(serverURL: "ws://127.0.0.1:\(port)", apiKey: store.apiKey, apiSecret: store.apiSecret)
    }

    public var rooms: [String: Room] { store.state.withLock { $0.rooms } }
    public var deletedRooms: [String] { store.state.withLock { $0.deleted } }
    public var received: [Received] { store.state.withLock { $0.received } }

    /// The next `count` requests with a valid token are answered `status` with a Twirp error, before doing anything.
    public func failNext(_ count: Int, status: Int = 503) {
        store.state.withLock { $0.failures += Array(repeating: status, count: count) }
    }

    /// Puts `identity` in the room, as if it had joined with a token; false when the room is missing or full.
    @discardableResult
    public func join(_ identity: String, room: String) -> Bool {
        store.state.withLock { state in
            guard var found = state.rooms[room], found.participants.count < found.maxParticipants else { return false }
            found.participants.append(identity)
            state.rooms[room] = found
            return true
        }
    }

    /// Takes `identity` out of the room.
    public func leave(_ identity: String, room: String) {
        store.state.withLock { $0.rooms[room]?.participants.removeAll { $0 == identity } }
    }

    /// The claims of a join token once verified as livekit-server would (signature, key, times); throws otherwise.
    public func verifyToken(_ token: String, now: Date = Date()) async throws -> Claims {
        try await Self.verify(token, key: store.apiKey, secret: store.apiSecret, now: now)
    }

    /// The `Authorization` value livekit-server sends with a webhook: a bare JWT, HS256 with the API secret,
    /// whose `sha256` claim is the base64 SHA-256 of the body.
    public func webhookAuthorization(for body: String, issuedAt: Date = Date(), secret: String? = nil, key: String? = nil) async throws -> String {
        let claims = Claims(
            iss: .init(value: key ?? store.apiKey), sub: nil, nbf: .init(value: issuedAt),
            exp: .init(value: issuedAt.addingTimeInterval(300)), name: nil, video: nil,
            sha256: Data(SHA256.hash(data: Data(body.utf8))).base64EncodedString())
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret ?? store.apiSecret), digestAlgorithm: .sha256)
        return try await keys.sign(claims)
    }

    /// A webhook body as livekit-server writes it (protobuf JSON, camelCase, int64 as strings).
    public static func webhookBody(
        event: String, id: String, room: String, participant: String? = nil, session: String? = nil, disconnectReason: String? = nil,
        createdAt: Date = Date()
    ) -> String {
        var fields: [String: Any] = [
            "event": event, "id": id, "createdAt": String(Int64(createdAt.timeIntervalSince1970)),
            "room": ["sid": "RM_\(room.prefix(8))", "name": room, "emptyTimeout": 60, "maxParticipants": 2],
        ]
        if let participant {
            var info: [String: Any] = ["sid": session ?? "PA_\(participant.prefix(8))", "identity": participant, "state": "ACTIVE"]
            if let disconnectReason { info["disconnectReason"] = disconnectReason }
            fields["participant"] = info
        }
        let data = try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// Runs `body` with a fake listening on 127.0.0.1 on a free port, then stops it.
    public static func run<Result: Sendable>(_ body: @Sendable (FakeLiveKit) async throws -> Result) async throws -> Result {
        let store = Store()
        let router = Router()
        router.post("/twirp/livekit.RoomService/:method") { request, context -> Response in
            var request = request
            let bytes = try await request.collectBody(upTo: 1 << 20)
            let method = context.parameters.get("method") ?? ""
            return await store.handle(method: method, request: request, body: Data(buffer: bytes))
        }
        return try await LoopbackServer.run(router, name: "fake-livekit") { port in
            try await body(FakeLiveKit(store: store, port: port))
        }
    }

    static func verify(_ token: String, key: String, secret: String, now: Date) async throws -> Claims {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let header = Base64URL.decode(String(parts[0])),
            let fields = try JSONSerialization.jsonObject(with: Data(header)) as? [String: Any], fields["alg"] as? String == "HS256"
        else { throw FakeLiveKitError.unauthenticated("not an HS256 token") }
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        let claims = try await keys.verify(token, as: Claims.self)
        guard claims.iss.value == key else { throw FakeLiveKitError.unauthenticated("unknown API key") }
        guard claims.exp.value > now else { throw FakeLiveKitError.unauthenticated("token expired") }
        if let nbf = claims.nbf, nbf.value > now.addingTimeInterval(1) { throw FakeLiveKitError.unauthenticated("token not valid yet") }
        return claims
    }

    enum FakeLiveKitError: Error {
        case unauthenticated(String)
    }
}

extension FakeLiveKit.Store {
    private struct RoomMessage: Decodable {
        let name: String?
        let room: String?
        let identity: String?
        let empty_timeout: Int?
        let max_participants: Int?
        let metadata: String?
    }

    func handle(method: String, request: Request, body: Data) async -> Response {
        guard request.headers[.contentType]?.hasPrefix("application/json") == true else {
            return Self.twirpError(415, "malformed", "content type must be application/json")
        }
        guard let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer ") else {
            return record(method, nil, Self.twirpError(401, "unauthenticated", "authorization required"))
        }
        let claims: FakeLiveKit.Claims
        do {
            claims = try await FakeLiveKit.verify(String(authorization.dropFirst(7)), key: apiKey, secret: apiSecret, now: Date())
        } catch {
            return record(method, nil, Self.twirpError(401, "unauthenticated", "invalid token"))
        }
        let grant = claims.video ?? FakeLiveKit.Grant()
        guard let message = try? JSONDecoder().decode(RoomMessage.self, from: body) else {
            return record(method, grant, Self.twirpError(400, "malformed", "body is not a \(method) request"))
        }
        if let status = state.withLock({ $0.failures.isEmpty ? nil : $0.failures.removeFirst() }) {
            return record(method, grant, Self.twirpError(status, "unavailable", "injected failure"))
        }
        let response: Response
        switch method {
        case "CreateRoom":
            guard grant.roomCreate == true else {
                return record(method, grant, Self.twirpError(403, "permission_denied", "no permissions to access the room"))
            }
            guard let name = message.name, !name.isEmpty else {
                return record(method, grant, Self.twirpError(400, "invalid_argument", "name required"))
            }
            let room = state.withLock { state in
                let room =
                    state.rooms[name]
                    ?? FakeLiveKit.Room(
                        name: name, maxParticipants: message.max_participants ?? 0, emptyTimeout: message.empty_timeout ?? 300,
                        metadata: message.metadata ?? "", participants: [])
                state.rooms[name] = room
                return room
            }
            response = Self.json([
                "sid": "RM_\(name)", "name": room.name, "empty_timeout": room.emptyTimeout, "max_participants": room.maxParticipants,
                "metadata": room.metadata,
            ])
        case "DeleteRoom":
            guard grant.roomCreate == true else {
                return record(method, grant, Self.twirpError(403, "permission_denied", "no permissions to access the room"))
            }
            let name = message.room ?? ""
            let existed = state.withLock { state in
                guard state.rooms.removeValue(forKey: name) != nil else { return false }
                state.deleted.append(name)
                return true
            }
            response = existed ? Self.json([:]) : Self.twirpError(404, "not_found", "requested room does not exist")
        case "ListParticipants", "RemoveParticipant":
            let name = message.room ?? ""
            guard grant.roomAdmin == true, grant.room == name, !name.isEmpty else {
                return record(method, grant, Self.twirpError(403, "permission_denied", "no permissions to access the room"))
            }
            response = state.withLock { state in
                guard var room = state.rooms[name] else { return Self.twirpError(404, "not_found", "requested room does not exist") }
                if method == "ListParticipants" {
                    return Self.json(["participants": room.participants.map { ["sid": "PA_\($0.prefix(8))", "identity": $0] }])
                }
                guard let identity = message.identity, room.participants.contains(identity) else {
                    return Self.twirpError(404, "not_found", "participant does not exist")
                }
                room.participants.removeAll { $0 == identity }
                state.rooms[name] = room
                return Self.json([:])
            }
        default:
            response = Self.twirpError(404, "bad_route", "no handler for path")
        }
        return record(method, grant, response)
    }

    private func record(_ method: String, _ grant: FakeLiveKit.Grant?, _ response: Response) -> Response {
        state.withLock { $0.received.append(.init(method: method, status: Int(response.status.code), grant: grant)) }
        return response
    }

    private static func json(_ object: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data("{}".utf8)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    private static func twirpError(_ status: Int, _ code: String, _ message: String) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: ["code": code, "msg": message])) ?? Data()
        return Response(
            status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
