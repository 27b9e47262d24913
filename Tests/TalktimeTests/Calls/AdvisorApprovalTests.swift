import Foundation
import Hummingbird
import TalktimeCore
import Testing

@testable import Talktime

/// A Licensee admin approves, rejects and suspends the Licensee's Advisors: only approved ones are listed and
/// can be called, and no admin reaches another Licensee's Advisors.
@Suite struct AdvisorApprovalTests {
    func approval(_ world: CallWorld, advisor: UUID, status: String, token: String) async throws -> TestHTTP.Reply {
        try await world.http.send(.put, "/v1/admin/advisors/\(advisor.uuidString)/approval", json: ["status": status], token: token)
    }

    func listed(_ world: CallWorld, _ advisor: UUID) async throws -> Bool {
        let page = try await world.http.send(.get, "/v1/advisors", token: world.alpha.endUserToken)
        let ids = (page.json["data"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        return ids.contains { UUID(uuidString: $0) == advisor }
    }

    @Test func aSuspendedAdvisorIsHiddenCannotBeCalledAndGoesOffline() async throws {
        try await CallWorld.run { world in
            let alpha = world.alpha
            let advisor = try await world.id(of: alpha.advisorToken)
            try await world.fund(alpha, 1_000)
            #expect(try await listed(world, advisor))

            let suspended = try await approval(world, advisor: advisor, status: "suspended", token: alpha.adminToken)
            #expect(suspended.status == .ok, "\(suspended.text)")
            #expect(suspended.string("id").flatMap(UUID.init(uuidString:)) == advisor)
            #expect(suspended.string("approval_status") == "suspended")
            #expect(try await !listed(world, advisor))
            #expect(try await world.http.send(.get, "/v1/advisors/\(advisor.uuidString)", token: alpha.endUserToken).status == .notFound)
            let refused = try await world.startCall(alpha)
            #expect(refused.status == .notFound, "\(refused.text)")
            // Their own profile still reads, offline: no stale "available" outlives the decision.
            let own = try await world.http.send(.get, "/v1/advisors/me", token: alpha.advisorToken)
            #expect(own.status == .ok && own.string("presence") == "offline")
            let audit = try await world.world.superuser(
                "SELECT details->>'approval_status' FROM audit_log WHERE action = 'advisor.approval_set' AND target_id = '\(advisor.uuidString)' ORDER BY id"
            )
            // CallWorld's own approval first, then the suspension.
            #expect(try audit.map { try $0.decode(String.self) } == ["approved", "suspended"])

            // Approved again and available again, they can be called.
            try await world.approveAdvisor(of: alpha)
            #expect(try await listed(world, advisor))
            let started = try await world.startCall(alpha)
            #expect(started.status == .created, "\(started.text)")
        }
    }

    @Test func onlyTheLicenseesAdminsDecideAndOnlyOnItsAdvisors() async throws {
        try await CallWorld.run { world in
            let (alpha, beta) = (world.alpha, world.beta)
            let advisor = try await world.id(of: alpha.advisorToken)
            let endUser = try await world.id(of: alpha.endUserToken)
            let before = try await world.world.superuser("SELECT approval_status, presence FROM advisor_profiles ORDER BY user_id")
                .map { try $0.decode((String, String).self) }

            // Another Licensee's admin: not found, as if there were no such Advisor.
            #expect(try await approval(world, advisor: advisor, status: "suspended", token: beta.adminToken).status == .notFound)
            // A user who is not an Advisor, and an id that is nobody.
            #expect(try await approval(world, advisor: endUser, status: "approved", token: alpha.adminToken).status == .notFound)
            #expect(try await approval(world, advisor: UUID(), status: "approved", token: alpha.adminToken).status == .notFound)
            // Not an admin.
            #expect(try await approval(world, advisor: advisor, status: "suspended", token: alpha.advisorToken).status == .forbidden)
            #expect(try await approval(world, advisor: advisor, status: "suspended", token: alpha.endUserToken).status == .forbidden)
            // Not a status.
            let bogus = try await approval(world, advisor: advisor, status: "fired", token: alpha.adminToken)
            #expect(bogus.status == .badRequest && bogus.headers[.contentType] == "application/problem+json")

            let after = try await world.world.superuser("SELECT approval_status, presence FROM advisor_profiles ORDER BY user_id")
                .map { try $0.decode((String, String).self) }
            #expect(after.map(\.0) == before.map(\.0) && after.map(\.1) == before.map(\.1))
            let audited = try await world.world.superuser("SELECT count(*) FROM audit_log WHERE action = 'advisor.approval_set'")
            #expect(try audited.first?.decode(Int.self) == 2, "only the two approvals made by CallWorld itself")
        }
    }

    /// The ids listed by `GET /v1/admin/advisors` with `query`, as `token`, page by page of `limit`.
    func adminList(_ world: IdentityWorld, _ query: String, limit: Int = 100, token: String) async throws -> [String] {
        var ids: [String] = []
        var after = ""
        while true {
            let page = try await world.http.send(.get, "/v1/admin/advisors?limit=\(limit)\(query)\(after)", token: token)
            #expect(page.status == .ok, "\(page.text)")
            let items = page.json["data"] as? [[String: Any]] ?? []
            ids += items.compactMap { $0["id"] as? String }
            guard page.json["has_more"] as? Bool == true, let last = ids.last else { return ids }
            after = "&starting_after=\(last)"
        }
    }

    @Test func adminsListTheirOwnAdvisorsByStatusAndEveryReadIsAudited() async throws {
        try await IdentityWorld.run { world in
            let (alpha, beta) = (world.alpha, world.beta)
            // A second Advisor joins alpha; both wait for a decision.
            let invitation = try await world.http.send(
                .post, "/v1/admin/invitations", json: ["email": "second-advisor@alpha.example", "role": "advisor"], token: alpha.adminToken)
            let second = try await IdentityWorld.accept(invitation, displayName: "second advisor", http: world.http)
            let first = try #require(try await world.http.send(.get, "/v1/me", token: alpha.advisorToken).string("id"))
            let secondID = try #require(try await world.http.send(.get, "/v1/me", token: second).string("id"))

            let page = try await world.http.send(.get, "/v1/admin/advisors?approval_status=pending", token: alpha.adminToken)
            let entries = page.json["data"] as? [[String: Any]] ?? []
            #expect(entries.map { $0["id"] as? String } == [first, secondID], "those who joined first first: \(page.text)")
            #expect(entries.first?["email"] as? String == "advisor@alpha.example")
            #expect(entries.allSatisfy { $0["approval_status"] as? String == "pending" && $0["presence"] as? String == "offline" })
            // One at a time, the same two.
            #expect(try await adminList(world, "&approval_status=pending", limit: 1, token: alpha.adminToken) == [first, secondID])

            let approved = try await world.http.send(
                .put, "/v1/admin/advisors/\(secondID)/approval", json: ["status": "approved"], token: alpha.adminToken)
            #expect(approved.status == .ok)
            #expect(try await adminList(world, "&approval_status=pending", token: alpha.adminToken) == [first])
            #expect(try await adminList(world, "&approval_status=approved", token: alpha.adminToken) == [secondID])
            #expect(try await adminList(world, "", token: alpha.adminToken) == [first, secondID])
            // Beta's admin sees only beta's Advisor.
            let betaAdvisor = try #require(try await world.http.send(.get, "/v1/me", token: beta.advisorToken).string("id"))
            #expect(try await adminList(world, "", token: beta.adminToken) == [betaAdvisor])

            for (query, status) in [
                ("?approval_status=fired", HTTPResponse.Status.badRequest), ("?limit=0", .unprocessableContent),
                ("?starting_after=\(UUID().uuidString)", .notFound), ("?starting_after=\(betaAdvisor)", .notFound),
            ] {
                let reply = try await world.http.send(.get, "/v1/admin/advisors\(query)", token: alpha.adminToken)
                #expect(reply.status == status, "\(query): \(reply.text)")
            }
            for token in [alpha.endUserToken, alpha.advisorToken, world.platformAdminToken] {
                #expect(try await world.http.send(.get, "/v1/admin/advisors", token: token).status == .forbidden)
            }
            // Every successful read is in the audit log, by alpha's admin or beta's, never with the addresses read.
            let reads = try await world.superuser(
                "SELECT count(*), bool_and(details::text NOT LIKE '%@%') FROM audit_log WHERE action = 'advisors.listed'")
            let (count, withoutAddresses) = try #require(try reads.first?.decode((Int, Bool).self))
            #expect(count == 7 && withoutAddresses)
        }
    }
}
