import Foundation
import Hummingbird
import TalktimeCore
import Testing

@testable import Talktime

/// The devices a user receives pushes on stay bounded: registering one past the limit forgets the one
/// registered, or registered again, longest ago.
@Suite struct DeviceRegistrationTests {
    func register(_ world: IdentityWorld, _ token: String) async throws -> String {
        let reply = try await world.http.send(.post, "/v1/devices", json: ["platform": "android", "token": token], token: world.alpha.advisorToken)
        #expect(reply.status == .created, "\(reply.text)")
        return try #require(reply.string("id"))
    }

    @Test func aUserKeepsTheirMostRecentDevicesOnly() async throws {
        try await IdentityWorld.run { world in
            let limit = DeviceRegistry.maximumDevicesPerUser
            var ids: [String] = []
            for n in 0..<limit { ids.append(try await register(world, "token-\(n)")) }
            // The first token registered again counts as the most recent, so the second is the oldest now.
            #expect(try await register(world, "token-0") == ids[0])
            ids.append(try await register(world, "token-\(limit)"))

            let kept = try await world.superuser("SELECT id FROM devices ORDER BY created_at").map { try $0.decode(UUID.self).uuidString }
            #expect(kept.count == limit)
            #expect(!kept.contains(ids[1]) && kept.contains(ids[0]) && kept.contains(ids[limit]))
            let forgotten = try await world.http.send(.delete, "/v1/devices/\(ids[1])", token: world.alpha.advisorToken)
            #expect(forgotten.status == .notFound)
            // Other users' devices are not theirs to displace.
            let other = try await world.http.send(
                .post, "/v1/devices", json: ["platform": "android", "token": "someone-else"], token: world.alpha.endUserToken)
            #expect(other.status == .created)
            let counts = try await world.superuser("SELECT count(*) FROM devices GROUP BY user_id ORDER BY 1")
            #expect(try counts.map { try $0.decode(Int.self) } == [1, limit])
        }
    }
}
