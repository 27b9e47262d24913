import AsyncHTTPClient
import Foundation
import Logging
import TalktimeCore
import TalktimeTestSupport
import Testing

@testable import TalktimeIntegrations

/// The LiveKit client against a fake livekit-server on loopback that checks tokens and grants as the real one does.
@Suite struct LiveKitRoomServiceTests {
    let logger = Logger(label: "test")

    func service(attempts: Int = 3, timeout: Duration = .seconds(5)) -> LiveKitRoomService {
        LiveKitRoomService(
            configuration: LiveKitConfiguration(requestTimeout: timeout, maxAttempts: attempts), baseRetryDelay: .milliseconds(1))
    }

    @Test func joinTokensGrantOneRoomAndNothingAdministrative() async throws {
        try await FakeLiveKit.run { fake in
            let now = Date(timeIntervalSince1970: Double(Int(Date().timeIntervalSince1970)))
            let grant = RoomJoinGrant(room: "call-1", identity: "user-1", displayName: "Ada", validFor: .seconds(300))
            let token = try await service().joinToken(grant, credentials: fake.credentials, now: now)
            let claims = try await fake.verifyToken(token, now: now)
            #expect(claims.iss.value == fake.apiKey)
            #expect(claims.sub?.value == "user-1")
            #expect(claims.name == "Ada")
            #expect(claims.nbf?.value == now)
            #expect(claims.exp.value == now.addingTimeInterval(300))
            #expect(
                claims.video
                    == FakeLiveKit.Grant(roomJoin: true, room: "call-1", canPublish: true, canSubscribe: true, canPublishData: true))
            // Past its life, or with another secret, it is worthless.
            await #expect(throws: (any Error).self) { try await fake.verifyToken(token, now: now.addingTimeInterval(301)) }
            var stolen = fake.credentials
            stolen.apiSecret = "another-secret-of-the-same-length-0123456789"
            let forged = try await service().joinToken(grant, credentials: stolen, now: now)
            await #expect(throws: (any Error).self) { try await fake.verifyToken(forged, now: now) }
        }
    }

    @Test func createsListsAndDeletesRoomsWithOnlyTheGrantEachNeeds() async throws {
        try await FakeLiveKit.run { fake in
            let rooms = service()
            let spec = RoomSpecification(name: "call-2", maxParticipants: 2, emptyTimeout: .seconds(45), metadata: "call-id")
            try await rooms.createRoom(spec, credentials: fake.credentials, logger: logger)
            try await rooms.createRoom(spec, credentials: fake.credentials, logger: logger)  // again: still one room
            #expect(
                fake.rooms["call-2"] == FakeLiveKit.Room(name: "call-2", maxParticipants: 2, emptyTimeout: 45, metadata: "call-id", participants: []))

            #expect(fake.join("caller", room: "call-2"))
            #expect(fake.join("advisor", room: "call-2"))
            #expect(!fake.join("intruder", room: "call-2"))  // two at most
            #expect(try await rooms.participants(inRoom: "call-2", credentials: fake.credentials, logger: logger) == ["caller", "advisor"])
            try await rooms.removeParticipant(identity: "caller", fromRoom: "call-2", credentials: fake.credentials, logger: logger)
            try await rooms.removeParticipant(identity: "caller", fromRoom: "call-2", credentials: fake.credentials, logger: logger)
            #expect(try await rooms.participants(inRoom: "call-2", credentials: fake.credentials, logger: logger) == ["advisor"])

            try await rooms.deleteRoom(named: "call-2", credentials: fake.credentials, logger: logger)
            try await rooms.deleteRoom(named: "call-2", credentials: fake.credentials, logger: logger)  // gone already: fine
            #expect(fake.rooms.isEmpty)
            #expect(fake.deletedRooms == ["call-2"])
            #expect(try await rooms.participants(inRoom: "call-2", credentials: fake.credentials, logger: logger) == [])

            let grants = Dictionary(grouping: fake.received, by: \.method).mapValues { Set($0.compactMap(\.grant)) }
            #expect(grants["CreateRoom"] == [FakeLiveKit.Grant(roomCreate: true)])
            #expect(grants["DeleteRoom"] == [FakeLiveKit.Grant(roomCreate: true)])
            #expect(grants["ListParticipants"] == [FakeLiveKit.Grant(roomAdmin: true, room: "call-2")])
            #expect(grants["RemoveParticipant"] == [FakeLiveKit.Grant(roomAdmin: true, room: "call-2")])
        }
    }

    @Test func refusedCredentialsAreNotAuthorizedAndNotRetried() async throws {
        try await FakeLiveKit.run { fake in
            var wrong = fake.credentials
            wrong.apiSecret = "not-the-secret-but-long-enough-0123456789"
            await #expect(throws: CallRoomProviderError.notAuthorized) {
                try await service().createRoom(RoomSpecification(name: "r"), credentials: wrong, logger: logger)
            }
            wrong = fake.credentials
            wrong.apiKey = "APIunknown"
            await #expect(throws: CallRoomProviderError.notAuthorized) {
                try await service().deleteRoom(named: "r", credentials: wrong, logger: logger)
            }
            #expect(fake.received.count == 2)
        }
    }

    @Test func serverErrorsAreRetriedThenGiveUp() async throws {
        try await FakeLiveKit.run { fake in
            fake.failNext(2, status: 503)
            try await service(attempts: 3).createRoom(RoomSpecification(name: "r1"), credentials: fake.credentials, logger: logger)
            #expect(fake.rooms["r1"] != nil)
            #expect(fake.received.map(\.status) == [503, 503, 200])

            fake.failNext(3, status: 500)
            await #expect(throws: CallRoomProviderError.unavailable) {
                try await service(attempts: 3).createRoom(RoomSpecification(name: "r2"), credentials: fake.credentials, logger: logger)
            }
            #expect(fake.rooms["r2"] == nil)
        }
    }

    @Test func invalidRequestsAreRejectedAtOnce() async throws {
        try await FakeLiveKit.run { fake in
            await #expect(throws: CallRoomProviderError.rejected(status: 400, message: "name required")) {
                try await service().createRoom(RoomSpecification(name: ""), credentials: fake.credentials, logger: logger)
            }
            #expect(fake.received.count == 1)
        }
    }

    @Test func anUnreachableServerIsUnavailable() async throws {
        // Nothing listens on port 1; and a server that accepts but never answers runs into the timeout.
        let credentials = CallRoomCredentials(serverURL: "ws://127.0.0.1:1", apiKey: "APIx", apiSecret: String(repeating: "s", count: 40))
        await #expect(throws: CallRoomProviderError.unavailable) {
            try await service(attempts: 2).createRoom(RoomSpecification(name: "r"), credentials: credentials, logger: logger)
        }
    }

    @Test(
        arguments: [
            ("wss://media.example.com", nil, "https://media.example.com"),
            ("ws://127.0.0.1:7880/", nil, "http://127.0.0.1:7880"),
            ("wss://media.example.com", "http://livekit.internal:7880/", "http://livekit.internal:7880"),
        ] as [(String, String?, String)])
    func serverAPIIsTheClientURLOverHTTPUnlessConfigured(serverURL: String, configured: String?, expected: String) {
        let account = CallRoomCredentials(serverURL: serverURL, apiKey: "APIkey", apiSecret: "secret", apiBaseURL: configured)
        #expect(LiveKitConfiguration().apiBaseURL(for: account) == expected)
    }
}
