import Foundation
import Hummingbird
import Logging
import TalktimeCore

/// What the router needs around every endpoint: who the caller is, and how much they may still call.
struct EdgeServices: Sendable {
    let authenticate: @Sendable (_ bearer: String, _ logger: Logger) async throws -> Principal
    let rateLimiter: RateLimiter
    let clientAddresses: ClientAddressResolver

    /// Runs `endpoint` behind its rate limits and its access rule: 429 before anything else, then 401 without
    /// a valid credential, 403 for a role the endpoint does not admit.
    func respond(to endpoint: Endpoint, request: Request, context: AppRequestContext) async throws -> Response {
        var context = context
        context.clientAddress = clientAddresses.clientAddress(peer: context.peerAddress, forwardedFor: request.headers[values: .xForwardedFor])
        let limits = RateLimitTable.policies(for: endpoint.route, key: .clientAddress).map { ($0, key: context.clientAddress) }
        let limitHeaders = try await rateLimiter.enforce(limits, logger: context.logger)
        var callerLimitHeaders = HTTPFields()
        var principal: Principal?
        if endpoint.access != .anonymous {
            guard let bearer = request.headers.bearerToken else { throw Problem.unauthenticated() }
            let caller = try await authenticate(bearer, context.logger)
            guard endpoint.permits(caller) else { throw Problem.forbidden() }
            principal = caller
            let callerLimits = RateLimitTable.policies(for: endpoint.route, key: .caller).map { ($0, key: caller.id.uuidString) }
            callerLimitHeaders = try await rateLimiter.enforce(callerLimits, logger: context.logger)
        }
        var response = try await endpoint.handler(request, context, principal)
        response.headers.append(contentsOf: limitHeaders)
        response.headers.append(contentsOf: callerLimitHeaders)
        return response
    }
}

extension HTTPFields {
    /// The credential of `Authorization: Bearer <credential>`.
    var bearerToken: String? {
        guard let value = self[.authorization], value.count > 7, value.prefix(7).lowercased() == "bearer " else { return nil }
        let token = value.dropFirst(7).trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }
}
