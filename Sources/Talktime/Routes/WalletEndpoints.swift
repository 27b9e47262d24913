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
                let (limit, startingAfter) = try request.pageQuery()
                let page = try await wallets.movements(of: principal, limit: limit, startingAfter: startingAfter, logger: context.logger)
                return try .json(PageDTO(data: page.movements.map(WalletDTO.Transaction.init), hasMore: page.hasMore))
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
