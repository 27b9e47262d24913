import Foundation
import Hummingbird
import TalktimeCore

/// `/v1/auth/...` and the JWKS: signing up, in and out, tokens and passwords.
struct AuthEndpoints: Sendable {
    let authentication: AuthenticationService
    let registration: RegistrationService
    let passwords: PasswordService
    let licensees: LicenseeResolver
    let rateLimiter: RateLimiter

    var endpoints: [Endpoint] {
        [
            Endpoint(.post, "/v1/auth/register") { request, context in
                let body = try await request.decodeJSON(as: IdentityDTO.Register.self, context: context)
                let licensee = try await licensees.requiredLicensee(of: request, logger: context.logger)
                guard ["trialing", "active", "past_due"].contains(licensee.licenceStatus) else {
                    throw Problem(
                        status: .forbidden, type: ProblemType.licenceInactive, title: "Licence inactive",
                        detail: "This Licensee does not accept new accounts.")
                }
                let pair = try await registration.register(
                    licenseeID: licensee.id, email: body.email, password: body.password, displayName: body.displayName, logger: context.logger)
                return try .json(IdentityDTO.Tokens(pair), status: .created)
            },
            Endpoint(.post, "/v1/auth/login") { request, context in
                let body = try await request.decodeJSON(as: IdentityDTO.Login.self, context: context)
                let licensee = try await licensees.licensee(of: request, logger: context.logger)
                try await limitByAccount("POST /v1/auth/login", licenseeID: licensee?.id, email: body.email, context: context)
                let pair = try await authentication.login(
                    licenseeID: licensee?.id, email: body.email, password: body.password, logger: context.logger)
                return try .json(IdentityDTO.Tokens(pair))
            },
            Endpoint(.post, "/v1/auth/refresh") { request, context in
                let body = try await request.decodeJSON(as: IdentityDTO.Refresh.self, context: context)
                return try .json(IdentityDTO.Tokens(try await authentication.refresh(body.refreshToken, logger: context.logger)))
            },
            Endpoint(.post, "/v1/auth/logout", access: .anyAccount) { _, context, principal in
                try await authentication.logout(principal, logger: context.logger)
                return Response(status: .noContent)
            },
            Endpoint(.post, "/v1/auth/logout-all", access: .anyAccount) { _, context, principal in
                try await authentication.logoutAll(principal, logger: context.logger)
                return Response(status: .noContent)
            },
            Endpoint(.post, "/v1/auth/invitations/accept") { request, context in
                let body = try await request.decodeJSON(as: IdentityDTO.AcceptInvitation.self, context: context)
                let pair = try await registration.acceptInvitation(
                    token: body.token, password: body.password, displayName: body.displayName, logger: context.logger)
                return try .json(IdentityDTO.Tokens(pair), status: .created)
            },
            Endpoint(.post, "/v1/auth/password-reset") { request, context in
                let body = try await request.decodeJSON(as: IdentityDTO.PasswordResetRequest.self, context: context)
                let licensee = try await licensees.licensee(of: request, logger: context.logger)
                try await limitByAccount("POST /v1/auth/password-reset", licenseeID: licensee?.id, email: body.email, context: context)
                try await passwords.requestReset(licenseeID: licensee?.id, email: body.email, logger: context.logger)
                // The same answer whether or not the account exists.
                return Response(status: .accepted)
            },
            Endpoint(.post, "/v1/auth/password-reset/confirm") { request, context in
                let body = try await request.decodeJSON(as: IdentityDTO.PasswordResetConfirm.self, context: context)
                try await passwords.confirmReset(token: body.token, new: body.password, logger: context.logger)
                return Response(status: .noContent)
            },
            Endpoint(.post, "/v1/auth/password", access: .anyAccount) { request, context, principal in
                let body = try await request.decodeJSON(as: IdentityDTO.PasswordChange.self, context: context)
                try await limitByAccount("POST /v1/auth/password", licenseeID: principal.licenseeID, email: principal.id.uuidString, context: context)
                let pair = try await passwords.change(
                    for: principal, current: body.currentPassword, new: body.newPassword, logger: context.logger)
                return try .json(IdentityDTO.Tokens(pair))
            },
            Endpoint(.get, "/.well-known/jwks.json") { _, _ in
                var response = try Response.json(authentication.jwks)
                response.headers[.cacheControl] = "public, max-age=300"
                return response
            },
        ]
    }

    /// The route's account-keyed limits, counted under the Licensee and the account name as given.
    func limitByAccount(_ route: String, licenseeID: UUID?, email: String, context: AppRequestContext) async throws {
        let key = (licenseeID?.uuidString ?? "platform") + "|" + email.lowercased()
        let policies = RateLimitTable.policies(for: route, key: .account).map { ($0, key: key) }
        _ = try await rateLimiter.enforce(policies, logger: context.logger)
    }
}
