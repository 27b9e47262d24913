import Foundation
import Hummingbird
import TalktimeTestSupport
import Testing

@testable import Talktime

/// The wallet routes through the real application and PostgreSQL: reading, adjusting, paging, and the
/// Idempotency-Key rules on money-moving POSTs.
@Suite struct WalletEndpointTests {
    func endUserID(_ world: IdentityWorld, _ tenant: IdentityWorld.Tenant) async throws -> String {
        try #require(try await world.http.send(.get, "/v1/me", token: tenant.endUserToken).string("id"))
    }

    func adjust(
        _ world: IdentityWorld, user: String, amount: Int64, key: String?, token: String, reason: String = "goodwill"
    ) async throws -> TestHTTP.Reply {
        var headers: HTTPFields = [:]
        if let key { headers[.idempotencyKey] = key }
        return try await world.http.send(
            .post, "/v1/admin/users/\(user)/wallet/adjustments", json: ["amount": amount, "reason": reason], token: token, headers: headers)
    }

    @Test func anEndUserReadsTheirWalletAndOthersMayNot() async throws {
        try await IdentityWorld.run { world in
            let wallet = try await world.http.send(.get, "/v1/wallet", token: world.alpha.endUserToken)
            #expect(wallet.status == .ok)
            #expect(wallet.json["balance"] as? Int == 0)
            #expect(wallet.string("currency") == "EUR")
            for token in [world.alpha.adminToken, world.alpha.advisorToken, world.platformAdminToken, world.alpha.apiKey] {
                #expect(try await world.http.send(.get, "/v1/wallet", token: token).status == .forbidden)
            }
        }
    }

    @Test func anAdminAdjustsAWalletOnceperKeyAndTheReplayIsIdentical() async throws {
        try await IdentityWorld.run { world in
            let user = try await endUserID(world, world.alpha)
            let first = try await adjust(world, user: user, amount: 1_000, key: "adj-1", token: world.alpha.adminToken)
            #expect(first.status == .created, "\(first.text)")
            #expect(first.json["balance"] as? Int == 1_000)
            #expect(first.headers[.idempotentReplayed] == nil)

            let replay = try await adjust(world, user: user, amount: 1_000, key: "adj-1", token: world.alpha.adminToken)
            #expect(replay.status == .created)
            #expect(replay.body == first.body)
            #expect(replay.headers[.idempotentReplayed] == "true")

            let reused = try await adjust(world, user: user, amount: 999, key: "adj-1", token: world.alpha.adminToken)
            #expect(reused.status == .unprocessableContent)
            #expect(reused.string("type") == "urn:talktime:problem:idempotency-key-reused")

            let missing = try await adjust(world, user: user, amount: 5, key: nil, token: world.alpha.adminToken)
            #expect(missing.status == .badRequest)
            #expect(missing.string("type") == "urn:talktime:problem:idempotency-key-required")

            let overdraw = try await adjust(world, user: user, amount: -1_001, key: "adj-2", token: world.alpha.adminToken)
            #expect(overdraw.status == .unprocessableContent)
            #expect(overdraw.string("type") == "urn:talktime:problem:insufficient-funds")
            // A refused request stores nothing: the same key may carry a corrected request.
            let corrected = try await adjust(world, user: user, amount: -400, key: "adj-2", token: world.alpha.adminToken)
            #expect(corrected.status == .created)
            #expect(corrected.json["balance"] as? Int == 600)

            let wallet = try await world.http.send(.get, "/v1/wallet", token: world.alpha.endUserToken)
            #expect(wallet.json["balance"] as? Int == 600)
            let audited = try await world.superuser("SELECT count(*) FROM audit_log WHERE action = 'wallet.adjusted'")
            #expect(try audited.first?.decode(Int.self) == 2)
        }
    }

    @Test func badAdjustmentsAreRefusedAndChangeNothing() async throws {
        try await IdentityWorld.run { world in
            let user = try await endUserID(world, world.alpha)
            let advisor = try #require(try await world.http.send(.get, "/v1/me", token: world.alpha.advisorToken).string("id"))
            let cases: [(String, Int64, String, String, HTTPResponse.Status)] = [
                (user, 0, "zero", world.alpha.adminToken, .unprocessableContent),
                (user, 10, "   ", world.alpha.adminToken, .unprocessableContent),
                (user, 10, String(repeating: "x", count: 501), world.alpha.adminToken, .unprocessableContent),
                (user, 2_000_000_000_000, "too much", world.alpha.adminToken, .unprocessableContent),
                // Another Licensee's user, and someone who has no wallet, are not found.
                (user, 10, "cross-tenant", world.beta.adminToken, .notFound),
                (advisor, 10, "advisor", world.alpha.adminToken, .notFound),
                (UUID().uuidString, 10, "nobody", world.alpha.adminToken, .notFound),
                (user, 10, "not an admin", world.alpha.endUserToken, .forbidden),
                (user, 10, "an api key", world.alpha.apiKey, .forbidden),
            ]
            for (index, (target, amount, reason, token, status)) in cases.enumerated() {
                let reply = try await adjust(world, user: target, amount: amount, key: "bad-\(index)", token: token, reason: reason)
                #expect(reply.status == status, "case \(index): \(reply.text)")
            }
            let wallet = try await world.http.send(.get, "/v1/wallet", token: world.alpha.endUserToken)
            #expect(wallet.json["balance"] as? Int == 0)
            let entries = try await world.superuser("SELECT count(*) FROM ledger_entries")
            #expect(try entries.first?.decode(Int.self) == 0)
        }
    }

    @Test func twentyConcurrentRequestsWithOneKeyHaveOneEffect() async throws {
        try await IdentityWorld.run { world in
            let user = try await endUserID(world, world.alpha)
            let replies = try await withThrowingTaskGroup(of: TestHTTP.Reply.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await adjust(world, user: user, amount: 250, key: "once", token: world.alpha.adminToken) }
                }
                return try await group.reduce(into: [TestHTTP.Reply]()) { $0.append($1) }
            }
            let created = replies.filter { $0.status == .created }
            #expect(!created.isEmpty)
            #expect(Set(created.map(\.body)).count == 1)
            #expect(replies.allSatisfy { $0.status == .created || $0.status == .conflict }, "\(replies.map(\.status))")
            #expect(replies.filter { $0.status == .conflict }.allSatisfy { $0.headers[.retryAfter] != nil })
            let wallet = try await world.http.send(.get, "/v1/wallet", token: world.alpha.endUserToken)
            #expect(wallet.json["balance"] as? Int == 250)
            // Once the first is done, every retry replays it.
            let retry = try await adjust(world, user: user, amount: 250, key: "once", token: world.alpha.adminToken)
            #expect(retry.status == .created)
            #expect(retry.body == created[0].body)
        }
    }

    @Test func transactionsPageNewestFirstWithACursor() async throws {
        try await IdentityWorld.run { world in
            let user = try await endUserID(world, world.alpha)
            for amount in 1...5 {
                let reply = try await adjust(world, user: user, amount: Int64(amount * 100), key: "page-\(amount)", token: world.alpha.adminToken)
                #expect(reply.status == .created)
            }
            let first = try await world.http.send(.get, "/v1/wallet/transactions?limit=2", token: world.alpha.endUserToken)
            #expect(first.status == .ok, "\(first.text)")
            let firstPage = try #require(first.json["data"] as? [[String: Any]])
            #expect(firstPage.map { $0["amount"] as? Int } == [500, 400])
            #expect(firstPage.map { $0["balance_after"] as? Int } == [1_500, 1_000])
            #expect(first.json["has_more"] as? Bool == true)

            let cursor = try #require(firstPage.last?["id"] as? String)
            let second = try await world.http.send(
                .get, "/v1/wallet/transactions?limit=10&starting_after=\(cursor)", token: world.alpha.endUserToken)
            let secondPage = try #require(second.json["data"] as? [[String: Any]])
            #expect(secondPage.map { $0["amount"] as? Int } == [300, 200, 100])
            #expect(second.json["has_more"] as? Bool == false)

            for query in ["limit=0", "limit=101", "limit=x", "starting_after=nope"] {
                let reply = try await world.http.send(.get, "/v1/wallet/transactions?\(query)", token: world.alpha.endUserToken)
                #expect([.badRequest, .unprocessableContent].contains(reply.status), "\(query): \(reply.status)")
            }
            let unknown = try await world.http.send(
                .get, "/v1/wallet/transactions?starting_after=\(UUID().uuidString)", token: world.alpha.endUserToken)
            #expect(unknown.status == .notFound)
            // Another tenant's End User sees none of it, even with the cursor.
            let beta = try await world.http.send(.get, "/v1/wallet/transactions?starting_after=\(cursor)", token: world.beta.endUserToken)
            #expect(beta.status == .notFound)
        }
    }
}
