import Foundation
import Hummingbird
import TalktimeCore

/// The signed-in account's own profile, and Licensee admins' hold over their users, invitations and API keys.
struct AccountEndpoints: Sendable {
    let accounts: AccountService
    let registration: RegistrationService
    let apiKeys: APIKeyService

    var endpoints: [Endpoint] {
        [
            Endpoint(.get, "/v1/me", access: .anyAccount) { _, context, principal in
                try .json(IdentityDTO.Me(try await accounts.profile(of: principal, logger: context.logger)))
            },
            Endpoint(.patch, "/v1/me", access: .anyAccount) { request, context, principal in
                let body = try await request.decodeJSON(as: IdentityDTO.UpdateMe.self, context: context)
                let profile = try await accounts.updateProfile(of: principal, displayName: body.displayName, logger: context.logger)
                return try .json(IdentityDTO.Me(profile))
            },
            Endpoint(.post, "/v1/admin/users/{id}/block", access: .roles(.licenseeAdmin)) { _, context, principal in
                try await accounts.setBlocked(true, userID: try context.id(), by: principal, logger: context.logger)
                return Response(status: .noContent)
            },
            Endpoint(.post, "/v1/admin/users/{id}/unblock", access: .roles(.licenseeAdmin)) { _, context, principal in
                try await accounts.setBlocked(false, userID: try context.id(), by: principal, logger: context.logger)
                return Response(status: .noContent)
            },
            Endpoint(.post, "/v1/admin/invitations", access: .roles(.licenseeAdmin, .platformAdmin)) { request, context, principal in
                let body = try await request.decodeJSON(as: IdentityDTO.CreateInvitation.self, context: context)
                let (invitation, token) = try await registration.invite(
                    email: body.email, role: body.role, into: body.licenseeId, by: principal, logger: context.logger)
                let dto = IdentityDTO.Invitation(
                    id: invitation.id, licenseeId: invitation.licenseeID, email: invitation.email, role: invitation.role,
                    expiresAt: invitation.expiresAt, token: token)
                return try .json(dto, status: .created)
            },
            Endpoint(.post, "/v1/admin/api-keys", access: .roles(.licenseeAdmin)) { request, context, principal in
                let body = try await request.decodeJSON(as: IdentityDTO.CreateAPIKey.self, context: context)
                let (summary, secret) = try await apiKeys.create(by: principal, name: body.name, scopes: Set(body.scopes), logger: context.logger)
                return try .json(IdentityDTO.APIKey(summary, key: secret), status: .created)
            },
            Endpoint(.get, "/v1/admin/api-keys", access: .roles(.licenseeAdmin)) { _, context, principal in
                let keys = try await apiKeys.list(by: principal, logger: context.logger)
                return try .json(IdentityDTO.List(data: keys.map { IdentityDTO.APIKey($0) }))
            },
            Endpoint(.delete, "/v1/admin/api-keys/{id}", access: .roles(.licenseeAdmin)) { _, context, principal in
                try await apiKeys.revoke(id: try context.id(), by: principal, logger: context.logger)
                return Response(status: .noContent)
            },
        ]
    }
}

extension AppRequestContext {
    /// The `{id}` path parameter; a malformed id names nothing, so it is a 404 like any unknown one.
    func id() throws -> UUID {
        guard let text = parameters.get("id"), let id = UUID(uuidString: text) else { throw Problem.notFound() }
        return id
    }
}
