import Foundation
import Hummingbird
import TalktimeCore

/// Advisors as End Users browse them, each Advisor's own profile, Licensee admins' approval of Advisors, and the
/// devices that receive pushes.
struct AdvisorEndpoints: Sendable {
    let advisors: AdvisorDirectory
    let approvals: AdvisorApprovals
    let devices: DeviceRegistry

    var endpoints: [Endpoint] {
        [
            Endpoint(.get, "/v1/advisors", access: .roles(.endUser, .licenseeAdmin)) { request, context, principal in
                let (limit, startingAfter) = try request.pageQuery()
                let query = request.uri.queryParameters
                let presence = try query.get("presence").map { text in
                    guard let presence = Advisor.Presence(rawValue: text) else {
                        throw Problem.badRequest("'presence' must be available, busy or offline.")
                    }
                    return presence
                }
                let (category, language) = (query.get("category").map { String($0) }, query.get("language").map { String($0) })
                for case (let name, let value?) in [("category", category), ("language", language)] {
                    guard value.count <= 50 else { throw Problem.badRequest("'\(name)' may have at most 50 characters.") }
                    // PostgreSQL text cannot hold NUL: refused here, as in JSON bodies (Request.decodeJSON).
                    guard !value.utf8.contains(0) else { throw Problem.badRequest("'\(name)' must not contain the NUL character.") }
                }
                let filter = AdvisorDirectory.Filter(category: category, language: language, presence: presence)
                let page = try await advisors.list(
                    in: try licensee(of: principal), filter: filter, limit: limit, startingAfter: startingAfter, logger: context.logger)
                return try .json(PageDTO(data: page.advisors.map(CallDTO.Advisor.init), hasMore: page.hasMore))
            },
            Endpoint(.get, "/v1/advisors/me", access: .roles(.advisor)) { _, context, principal in
                try .json(CallDTO.Advisor(try await advisors.ownProfile(of: principal, logger: context.logger)))
            },
            Endpoint(.patch, "/v1/advisors/me", access: .roles(.advisor)) { request, context, principal in
                let body = try await request.decodeJSON(as: CallDTO.UpdateAdvisor.self, context: context)
                return try .json(CallDTO.Advisor(try await advisors.update(body.change, of: principal, logger: context.logger)))
            },
            Endpoint(.get, "/v1/advisors/{id}", access: .roles(.endUser, .licenseeAdmin)) { _, context, principal in
                try .json(CallDTO.Advisor(try await advisors.advisor(try context.id(), in: try licensee(of: principal), logger: context.logger)))
            },
            Endpoint(.get, "/v1/admin/advisors", access: .roles(.licenseeAdmin)) { request, context, principal in
                let (limit, startingAfter) = try request.pageQuery()
                let status = try request.uri.queryParameters.get("approval_status").map { text in
                    guard let status = AdvisorApprovalStatus(rawValue: String(text)) else {
                        throw Problem.badRequest("'approval_status' must be pending, approved, rejected or suspended.")
                    }
                    return status
                }
                let page = try await approvals.list(
                    status: status, limit: limit, startingAfter: startingAfter, by: principal, logger: context.logger)
                return try .json(PageDTO(data: page.entries.map(CallDTO.AdminAdvisor.init), hasMore: page.hasMore))
            },
            Endpoint(.put, "/v1/admin/advisors/{id}/approval", access: .roles(.licenseeAdmin)) { request, context, principal in
                let body = try await request.decodeJSON(as: CallDTO.SetAdvisorApproval.self, context: context)
                let advisorID = try context.id()
                try await approvals.set(body.status, advisorID: advisorID, by: principal, logger: context.logger)
                return try .json(CallDTO.AdvisorApproval(id: advisorID, approvalStatus: body.status.rawValue))
            },
            Endpoint(.post, "/v1/devices", access: .roles(.endUser, .advisor)) { request, context, principal in
                let body = try await request.decodeJSON(as: CallDTO.RegisterDevice.self, context: context)
                let device = try await devices.register(platform: body.platform, token: body.token, for: principal, logger: context.logger)
                return try .json(CallDTO.Device(device), status: .created)
            },
            Endpoint(.delete, "/v1/devices/{id}", access: .roles(.endUser, .advisor)) { _, context, principal in
                try await devices.remove(try context.id(), of: principal, logger: context.logger)
                return Response(status: .noContent)
            },
        ]
    }

    private func licensee(of principal: Principal) throws -> UUID {
        guard let licenseeID = principal.licenseeID else { throw Problem.forbidden() }
        return licenseeID
    }
}
