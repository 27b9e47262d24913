import Foundation
import Logging
import PostgresNIO

/// End Users add money to their wallets: a top-up records the request and asks the payment provider for a
/// payment the app confirms. The wallet is credited later, exactly once, by `PaymentEventProcessor`.
public struct TopUpService: Sendable {
    public enum Status: String, Sendable {
        case pending
        case succeeded
        case failed
    }

    public struct TopUp: Sendable, Equatable {
        public let id: UUID
        public let amount: Int64
        public let currency: String
        public let status: Status
        /// The provider's payment id (a Stripe PaymentIntent).
        public let paymentID: String
        /// What the app confirms the payment with. Returned to the End User only.
        public let clientSecret: String
        public let createdAt: Date
    }

    let database: Database
    let provider: any PaymentProvider

    public init(database: Database, provider: any PaymentProvider) {
        self.database = database
        self.provider = provider
    }

    /// Starts a top-up of `amount` minor units, within the Licensee's bounds. The same `requestKey` again finds
    /// the same top-up and the same payment.
    public func create(amount: Int64, requestKey: String, by principal: Principal, logger: Logger) async throws -> TopUp {
        let licenseeID = try WalletService.endUser(principal)
        let (id, currency, createdAt) = try await database.withTransaction(principal.scope, logger: logger) { connection in
            let row = try await connection.query(
                "SELECT currency, top_up_min_minor, top_up_max_minor, licence_status FROM licensees WHERE id = \(licenseeID)",
                logger: logger
            ).collect().first
            guard let (currency, minimum, maximum, licence) = try row?.decode((String, Int64, Int64, String).self) else {
                throw WalletError.userNotFound
            }
            guard licence != "suspended", licence != "terminated" else { throw WalletError.licenceInactive }
            guard (minimum...maximum).contains(amount) else {
                throw WalletError.amountOutOfBounds(minimum: minimum, maximum: maximum, currency: currency)
            }
            let inserted = try await connection.query(
                """
                INSERT INTO top_ups (licensee_id, user_id, amount, currency, idempotency_key)
                VALUES (\(licenseeID), \(principal.id), \(amount), \(currency), \(requestKey))
                ON CONFLICT (licensee_id, user_id, idempotency_key) DO NOTHING
                RETURNING id, created_at
                """,
                logger: logger
            ).collect().first
            if let inserted {
                let (id, createdAt) = try inserted.decode((UUID, Date).self)
                return (id, currency, createdAt)
            }
            let (id, earlierAmount, createdAt) = try await connection.query(
                """
                SELECT id, amount, created_at FROM top_ups
                WHERE licensee_id = \(licenseeID) AND user_id = \(principal.id) AND idempotency_key = \(requestKey)
                """,
                logger: logger
            ).collect().first!.decode((UUID, Int64, Date).self)
            guard earlierAmount == amount else { throw WalletError.invalidInput("This Idempotency-Key was used for another amount.") }
            return (id, currency, createdAt)
        }

        let payment: CreatedPayment
        do {
            payment = try await provider.createPayment(
                PaymentRequest(
                    amount: amount, currency: currency,
                    metadata: ["top_up_id": id.uuidString.lowercased(), "licensee_id": licenseeID.uuidString.lowercased()]),
                idempotencyKey: "talktime-top-up-\(id.uuidString.lowercased())", logger: logger)
        } catch let error as PaymentProviderError {
            throw WalletError.payment(error)
        }
        try await database.withTransaction(principal.scope, logger: logger) { connection in
            try await connection.query(
                "UPDATE top_ups SET payment_id = \(payment.id), updated_at = now() WHERE id = \(id) AND payment_id IS NULL", logger: logger)
        }
        return TopUp(
            id: id, amount: amount, currency: currency, status: .pending, paymentID: payment.id, clientSecret: payment.clientSecret,
            createdAt: createdAt)
    }
}
