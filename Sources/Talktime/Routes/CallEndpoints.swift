import Foundation
import Hummingbird
import TalktimeCore

/// Calls: an End User starts one (under an Idempotency-Key), the Advisor accepts or declines, either ends it,
/// and participants fetch fresh room tokens to reconnect.
struct CallEndpoints: Sendable {
    let calls: CallService
    let idempotency: IdempotencyGuard

    var endpoints: [Endpoint] {
        [
            Endpoint(.post, "/v1/calls", access: .roles(.endUser)) { request, context, principal in
                try await idempotency.run(request, context: context, principal: principal) { request, _ in
                    let body = try await request.decodeJSON(as: CallDTO.StartCall.self, context: context)
                    let started = try await calls.start(advisorID: body.advisorId, by: principal, logger: context.logger)
                    return try .json(CallDTO.CallWithLiveKit(started), status: .created)
                }
            },
            Endpoint(.get, "/v1/calls", access: .roles(.endUser, .advisor)) { request, context, principal in
                let (limit, startingAfter) = try request.pageQuery()
                let page = try await calls.history(of: principal, limit: limit, startingAfter: startingAfter, logger: context.logger)
                return try .json(PageDTO(data: page.calls.map(CallDTO.Call.init), hasMore: page.hasMore))
            },
            Endpoint(.get, "/v1/calls/{id}", access: .roles(.endUser, .advisor, .licenseeAdmin)) { _, context, principal in
                try .json(CallDTO.Call(try await calls.call(try context.id(), for: principal, logger: context.logger)))
            },
            Endpoint(.get, "/v1/calls/{id}/token", access: .roles(.endUser, .advisor)) { _, context, principal in
                try .json(CallDTO.CallWithLiveKit(try await calls.freshJoin(try context.id(), for: principal, logger: context.logger)))
            },
            Endpoint(.post, "/v1/calls/{id}/accept", access: .roles(.advisor)) { _, context, principal in
                try .json(CallDTO.CallWithLiveKit(try await calls.accept(try context.id(), by: principal, logger: context.logger)))
            },
            Endpoint(.post, "/v1/calls/{id}/decline", access: .roles(.advisor)) { _, context, principal in
                try .json(CallDTO.Call(try await calls.decline(try context.id(), by: principal, logger: context.logger)))
            },
            Endpoint(.post, "/v1/calls/{id}/cancel", access: .roles(.endUser)) { _, context, principal in
                try .json(CallDTO.Call(try await calls.cancel(try context.id(), by: principal, logger: context.logger)))
            },
            Endpoint(.post, "/v1/calls/{id}/end", access: .roles(.endUser, .advisor)) { _, context, principal in
                try .json(CallDTO.Call(try await calls.end(try context.id(), by: principal, logger: context.logger)))
            },
        ]
    }
}
