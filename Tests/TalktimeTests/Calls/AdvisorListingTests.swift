import Foundation
import Hummingbird
import Testing

@testable import Talktime

/// The Advisor directory End Users browse: its filters, and its refusal of query parameters it cannot use.
@Suite struct AdvisorListingTests {
    func listedIDs(_ world: CallWorld, _ query: String) async throws -> [String] {
        let page = try await world.http.send(.get, "/v1/advisors?\(query)", token: world.alpha.endUserToken)
        #expect(page.status == .ok, "\(query): \(page.text)")
        return (page.json["data"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    }

    @Test func filtersNarrowTheListing() async throws {
        try await CallWorld.run { world in
            let advisor = try await world.id(of: world.alpha.advisorToken).uuidString
            let update = try await world.http.send(
                .patch, "/v1/advisors/me", json: ["categories": ["tarot"], "languages": ["de"]], token: world.alpha.advisorToken)
            #expect(update.status == .ok, "\(update.text)")
            #expect(try await listedIDs(world, "category=tarot&language=de&presence=available") == [advisor])
            #expect(try await listedIDs(world, "category=astrology").isEmpty)
            #expect(try await listedIDs(world, "language=fr").isEmpty)
            #expect(try await listedIDs(world, "presence=offline").isEmpty)
        }
    }

    /// Schemathesis found a NUL in `category` answered 500: PostgreSQL text cannot hold it.
    @Test(arguments: ["category=a%00b", "language=%00", "category=" + String(repeating: "x", count: 51), "presence=asleep"])
    func aQueryItCannotUseIsABadRequest(_ query: String) async throws {
        try await CallWorld.run { world in
            let reply = try await world.http.send(.get, "/v1/advisors?\(query)", token: world.alpha.endUserToken)
            #expect(reply.status == .badRequest, "\(reply.text)")
            #expect(reply.headers[.contentType] == "application/problem+json")
        }
    }
}
