import Foundation
import TalktimeCore

/// Request and response bodies of the wallet and payment routes, in the API's snake_case JSON.
enum WalletDTO {
    struct Wallet: Encodable {
        let balance: Int64
        let currency: String

        init(_ wallet: WalletService.Wallet) {
            balance = wallet.balance
            currency = wallet.currency
        }
    }

    struct Transaction: Encodable {
        let id: UUID
        let kind: String
        let amount: Int64
        let balanceAfter: Int64
        let currency: String
        let createdAt: Date

        init(_ movement: WalletService.Movement) {
            id = movement.id
            kind = movement.kind.rawValue
            amount = movement.amount
            balanceAfter = movement.balanceAfter
            currency = movement.currency
            createdAt = movement.createdAt
        }
    }

    struct CreateTopUp: Decodable {
        let amount: Int64
    }

    struct TopUp: Encodable {
        let id: UUID
        let amount: Int64
        let currency: String
        let status: String
        let paymentIntentId: String
        let clientSecret: String
        let createdAt: Date

        init(_ topUp: TopUpService.TopUp) {
            id = topUp.id
            amount = topUp.amount
            currency = topUp.currency
            status = topUp.status.rawValue
            paymentIntentId = topUp.paymentID
            clientSecret = topUp.clientSecret
            createdAt = topUp.createdAt
        }
    }

    struct CreateAdjustment: Decodable {
        let amount: Int64
        let reason: String
    }

    struct Adjustment: Encodable {
        let id: UUID
        let userId: UUID
        let amount: Int64
        let balance: Int64
        let currency: String
        let reason: String
        let createdAt: Date

        init(_ adjustment: WalletService.Adjustment) {
            id = adjustment.transactionID
            userId = adjustment.userID
            amount = adjustment.amount
            balance = adjustment.balance
            currency = adjustment.currency
            reason = adjustment.reason
            createdAt = adjustment.createdAt
        }
    }
}
