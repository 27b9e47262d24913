import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import TalktimeCore

/// Rooms and join tokens at LiveKit: the domain's `CallRoomProvider` over LiveKit's server API (Twirp: JSON
/// POSTed to `/twirp/livekit.RoomService/<Method>`).
///
/// Every request carries a fresh, short admin token with only the grant its method needs (`roomCreate` to
/// create or delete rooms, `roomAdmin` for the one room whose participants are listed or removed), so a token
/// caught in transit is worth little. 5xx answers and network errors are retried with backoff; a 4xx is not.
/// Neither secrets nor tokens are logged.
public struct LiveKitRoomService: CallRoomProvider {
    let configuration: LiveKitConfiguration
    let httpClient: HTTPClient
    /// The first retry's delay; each later one doubles, with up to 50 % jitter.
    let baseRetryDelay: Duration

    /// - Parameters:
    ///   - httpClient: owned and shut down by the caller.
    ///   - baseRetryDelay: the first backoff; tests pass a millisecond.
    public init(configuration: LiveKitConfiguration, httpClient: HTTPClient = .shared, baseRetryDelay: Duration = .milliseconds(200)) {
        self.configuration = configuration
        self.httpClient = httpClient
        self.baseRetryDelay = baseRetryDelay
    }

    /// HS256 with the account's secret; `iss` the API key, `sub` the identity, `nbf` now, `exp` after
    /// `grant.validFor`, and a `video` grant to join the one room. Never an admin grant.
    public func joinToken(_ grant: RoomJoinGrant, credentials: CallRoomCredentials, now: Date) async throws -> String {
        let claims = LiveKitClaims(
            iss: .init(value: credentials.apiKey), sub: .init(value: grant.identity), nbf: .init(value: now),
            exp: .init(value: now.adding(grant.validFor)), name: grant.displayName, video: .join(grant))
        return try await LiveKitTokenSigner.sign(claims, secret: credentials.apiSecret)
    }

    public func createRoom(_ room: RoomSpecification, credentials: CallRoomCredentials, logger: Logger) async throws {
        let request = CreateRoomRequest(
            name: room.name, empty_timeout: Int(room.emptyTimeout.components.seconds), max_participants: room.maxParticipants,
            metadata: room.metadata)
        // Creating a room that exists returns it: LiveKit's CreateRoom is idempotent by name.
        _ = try await call("CreateRoom", request, grant: .createRooms, credentials: credentials, logger: logger)
    }

    public func deleteRoom(named name: String, credentials: CallRoomCredentials, logger: Logger) async throws {
        _ = try await call("DeleteRoom", RoomRequest(room: name), grant: .createRooms, credentials: credentials, logger: logger, missingIsFine: true)
    }

    public func participants(inRoom name: String, credentials: CallRoomCredentials, logger: Logger) async throws -> [String] {
        let body = try await call(
            "ListParticipants", RoomRequest(room: name), grant: .administer(room: name), credentials: credentials, logger: logger,
            missingIsFine: true)
        guard let body else { return [] }
        guard let list = try? JSONDecoder().decode(ListParticipantsResponse.self, from: body) else {
            logger.error("livekit answered a participant list we could not read")
            throw CallRoomProviderError.unavailable
        }
        return (list.participants ?? []).map(\.identity)
    }

    public func removeParticipant(identity: String, fromRoom name: String, credentials: CallRoomCredentials, logger: Logger) async throws {
        _ = try await call(
            "RemoveParticipant", RemoveParticipantRequest(room: name, identity: identity), grant: .administer(room: name),
            credentials: credentials, logger: logger, missingIsFine: true)
    }

    /// POSTs `message` to the RoomService method; returns the body of a 2xx answer, or nil for a 404 when
    /// `missingIsFine` (the room or participant is already gone, which is what the caller wanted).
    func call(
        _ method: String, _ message: some Encodable, grant: LiveKitVideoGrant, credentials: CallRoomCredentials, logger: Logger,
        missingIsFine: Bool = false
    ) async throws -> Data? {
        let url = configuration.apiBaseURL(for: credentials) + "/twirp/livekit.RoomService/" + method
        let body = try JSONEncoder().encode(message)
        var attempt = 0
        while true {
            attempt += 1
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(try await adminToken(grant, credentials: credentials))")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "User-Agent", value: "Talktime/1.0")
            request.body = .bytes(ByteBuffer(bytes: body))
            let status: Int
            let answer: Data
            do {
                let response = try await httpClient.execute(request, timeout: .init(configuration.requestTimeout))
                answer = Data(buffer: try await response.body.collect(upTo: 1 << 20))
                status = Int(response.status.code)
            } catch {
                logger.warning("livekit request failed", metadata: ["method": "\(method)", "attempt": "\(attempt)", "error": "\(type(of: error))"])
                guard attempt < configuration.maxAttempts else { throw CallRoomProviderError.unavailable }
                try await Task.sleep(for: backoff(attempt: attempt))
                continue
            }
            if (200..<300).contains(status) { return answer }
            let twirp = try? JSONDecoder().decode(TwirpError.self, from: answer)
            if status == 404 && missingIsFine { return nil }
            logger.warning(
                "livekit refused a request",
                metadata: ["method": "\(method)", "status": "\(status)", "twirp_code": "\(twirp?.code ?? "-")"])
            switch status {
            case 401, 403:
                throw CallRoomProviderError.notAuthorized
            case 500..., 429:
                guard attempt < configuration.maxAttempts else { throw CallRoomProviderError.unavailable }
                try await Task.sleep(for: backoff(attempt: attempt))
            default:
                throw CallRoomProviderError.rejected(status: status, message: String((twirp?.msg ?? "LiveKit refused the request.").prefix(300)))
            }
        }
    }

    /// A token for one server API request, minted per attempt so that a retry is never sent an expired one.
    func adminToken(_ grant: LiveKitVideoGrant, credentials: CallRoomCredentials) async throws -> String {
        let now = Date()
        let claims = LiveKitClaims(
            iss: .init(value: credentials.apiKey), sub: nil, nbf: .init(value: now),
            exp: .init(value: now.adding(configuration.adminTokenLifetime)), name: nil, video: grant)
        return try await LiveKitTokenSigner.sign(claims, secret: credentials.apiSecret)
    }

    private func backoff(attempt: Int) -> Duration {
        RetryBackoff.delay(base: baseRetryDelay, attempt: attempt)
    }
}

// The server API's messages, in LiveKit's protobuf field names (Twirp's JSON accepts them).
private struct CreateRoomRequest: Encodable {
    let name: String
    let empty_timeout: Int
    let max_participants: Int
    let metadata: String
}

private struct RoomRequest: Encodable {
    let room: String
}

private struct RemoveParticipantRequest: Encodable {
    let room: String
    let identity: String
}

private struct ListParticipantsResponse: Decodable {
    struct Participant: Decodable {
        let identity: String
    }
    let participants: [Participant]?
}

/// Twirp's error body: `{"code": "not_found", "msg": "..."}`.
private struct TwirpError: Decodable {
    let code: String?
    let msg: String?
}
