import Foundation
import Hummingbird
import TalktimeCore

/// An End User's wallet and top-ups, and Licensee admins' adjustments. Every POST here moves money or
/// creates a payment, so each runs under the caller's Idempotency-Key.
struct WalletEndpoints: Sendable {
    let wallets: WalletService
    let topUps: TopUpService
    let idempotency: IdempotencyGuard

    var endpoints: [Endpoint] {
        [
            Endpoint(.get, "/v1/wallet", access: .roles(.endUser)) { _, context, principal in
                try .json(WalletDTO.Wallet(try await wallets.wallet(of: principal, logger: context.logger)))
            },
            Endpoint(.get, "/v1/wallet/transactions", access: .roles(.endUser)) { request, context, principal in
                let query = request.uri.queryParameters
                let limit = try query.get("limit").map { text in
                    guard let limit = Int(text) else { throw Problem.badRequest("'limit' must be an integer between 1 and 100.") }
                    return limit
                }
                let startingAfter = try query.get("starting_after").map { text in
                    guard let id = UUID(uuidString: text) else { throw Problem.badRequest("'starting_after' must be a transaction id.") }
                    return id
                }
                let page = try await wallets.movements(of: principal, limit: limit ?? 20, startingAfter: startingAfter, logger: context.logger)
                return try .json(WalletDTO.Page(data: page.movements.map(WalletDTO.Transaction.init), hasMore: page.hasMore))
            },
            Endpoint(.post, "/v1/wallet/top-ups", access: .roles(.endUser)) { request, context, principal in
                try await idempotency.run(request, context: context, principal: principal) { request, key in
                    let body = try await request.decodeJSON(as: WalletDTO.CreateTopUp.self, context: context)
                    let topUp = try await topUps.create(amount: body.amount, requestKey: key, by: principal, logger: context.logger)
                    return try .json(WalletDTO.TopUp(topUp), status: .created)
                }
            },
            Endpoint(.post, "/v1/admin/users/{id}/wallet/adjustments", access: .roles(.licenseeAdmin)) { request, context, principal in
                let userID = try context.id()
                return try await idempotency.run(request, context: context, principal: principal) { request, key in
                    let body = try await request.decodeJSON(as: WalletDTO.CreateAdjustment.self, context: context)
                    let adjustment = try await wallets.adjust(
                        userID: userID, amount: body.amount, reason: body.reason, requestKey: key, by: principal, logger: context.logger)
                    return try .json(WalletDTO.Adjustment(adjustment), status: .created)
                }
            },
        ]
    }
}
