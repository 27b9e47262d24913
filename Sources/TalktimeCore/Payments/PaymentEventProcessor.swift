import Foundation
import Logging
import PostgresNIO

/// Applies the payment provider's verified events to wallets, each event once.
///
/// The event's id goes into the inbox (`payment_events`) in the same database transaction as its effects, so
/// a redelivery finds it and changes nothing, and a concurrent duplicate waits for the first and then finds it.
/// Effects are keyed by the provider's objects, not by event ids, so two different events about the same
/// payment credit it once; and every effect commutes, so late and out-of-order events end in the same state:
/// - a payment's success credits its amount once (`topup:<payment>`);
/// - a refund takes back the newly refunded part of the cumulative amount, under the top-up's row lock;
/// - a dispute takes its amount once (`dispute:<id>:taken`), whichever of created and closed comes first, and
///   a dispute closed in the merchant's favour returns what was taken (`dispute:<id>:returned`).
public struct PaymentEventProcessor: Sendable {
    /// What happened to one delivery.
    public enum Outcome: String, Sendable {
        case applied
        case duplicate
        /// The event names a payment Talktime did not start (another integration's): acknowledged, ignored.
        case unknownPayment = "unknown_payment"
        /// The event's currency is not the top-up's: nothing is credited and an error is logged.
        case currencyMismatch = "currency_mismatch"
        case ignored
    }

    let database: Database
    let ledger: Ledger

    public init(database: Database, ledger: Ledger) {
        self.database = database
        self.ledger = ledger
    }

    public func process(_ envelope: PaymentEventEnvelope, logger requestLogger: Logger) async throws -> Outcome {
        var logger = requestLogger
        logger[metadataKey: "payment_event"] = "\(envelope.id)"
        logger[metadataKey: "payment_event_type"] = "\(envelope.type)"
        return try await database.withTransaction(.platform, logger: logger) { connection in
            let fresh = try await connection.query(
                """
                INSERT INTO payment_events (id, type, outcome, created_at) VALUES (\(envelope.id), \(envelope.type), 'processing', \(envelope.created))
                ON CONFLICT (id) DO NOTHING RETURNING 1
                """,
                logger: logger
            ).collect()
            guard !fresh.isEmpty else { return .duplicate }
            let (outcome, licenseeID) = try await apply(envelope.event, on: connection, logger: logger)
            try await connection.query(
                "UPDATE payment_events SET outcome = \(outcome.rawValue), licensee_id = \(licenseeID) WHERE id = \(envelope.id)",
                logger: logger)
            return outcome
        }
    }

    /// A top-up as locked for one event: every event about a payment takes this row lock first.
    private struct LockedTopUp {
        let id: UUID
        let licenseeID: UUID
        let userID: UUID
        let currency: String
        let refundedAmount: Int64
    }

    private func apply(_ event: PaymentEvent, on connection: PostgresConnection, logger: Logger) async throws -> (Outcome, UUID?) {
        switch event {
        case .ignored:
            return (.ignored, nil)

        case .paymentSucceeded(let paymentID, let amount, let currency):
            guard let topUp = try await lockTopUp(paymentID: paymentID, on: connection, logger: logger) else { return (.unknownPayment, nil) }
            guard topUp.currency == currency else { return (mismatch(topUp, currency, logger: logger), topUp.licenseeID) }
            if amount > 0 {
                try await postOnce(topUp, .topUp, key: "topup:\(paymentID)", walletAmount: amount, on: connection, logger: logger)
            }
            try await connection.query(
                """
                UPDATE top_ups SET status = 'succeeded', succeeded_at = coalesce(succeeded_at, now()), failure_code = NULL, updated_at = now()
                WHERE id = \(topUp.id)
                """,
                logger: logger)
            return (.applied, topUp.licenseeID)

        case .paymentFailed(let paymentID, let failureCode):
            guard let topUp = try await lockTopUp(paymentID: paymentID, on: connection, logger: logger) else { return (.unknownPayment, nil) }
            // A success, whenever it arrived, stands: a payment that failed once may succeed on a later attempt.
            try await connection.query(
                "UPDATE top_ups SET status = 'failed', failure_code = \(failureCode), updated_at = now() WHERE id = \(topUp.id) AND status = 'pending'",
                logger: logger)
            return (.applied, topUp.licenseeID)

        case .chargeRefunded(let chargeID, let paymentID, let amountRefunded, let currency):
            guard let topUp = try await lockTopUp(paymentID: paymentID, on: connection, logger: logger) else { return (.unknownPayment, nil) }
            guard topUp.currency == currency else { return (mismatch(topUp, currency, logger: logger), topUp.licenseeID) }
            let newlyRefunded = amountRefunded - topUp.refundedAmount
            if newlyRefunded > 0 {
                try await postOnce(
                    topUp, .refund, key: "refund:\(chargeID):\(amountRefunded)", walletAmount: -newlyRefunded, on: connection, logger: logger)
                try await connection.query(
                    "UPDATE top_ups SET refunded_amount = \(amountRefunded), updated_at = now() WHERE id = \(topUp.id)", logger: logger)
            }
            return (.applied, topUp.licenseeID)

        case .disputeCreated(let disputeID, let paymentID, let amount, let currency):
            guard let topUp = try await lockTopUp(paymentID: paymentID, on: connection, logger: logger) else { return (.unknownPayment, nil) }
            guard topUp.currency == currency else { return (mismatch(topUp, currency, logger: logger), topUp.licenseeID) }
            if amount > 0 {
                try await postOnce(topUp, .dispute, key: "dispute:\(disputeID):taken", walletAmount: -amount, on: connection, logger: logger)
            }
            return (.applied, topUp.licenseeID)

        case .disputeClosed(let disputeID, let paymentID, let amount, let currency, let status):
            guard let topUp = try await lockTopUp(paymentID: paymentID, on: connection, logger: logger) else { return (.unknownPayment, nil) }
            guard topUp.currency == currency else { return (mismatch(topUp, currency, logger: logger), topUp.licenseeID) }
            guard amount > 0 else { return (.applied, topUp.licenseeID) }
            // A closed dispute was opened: if its opening has not arrived yet, take the amount now, so that what
            // is returned below was taken first and the opening, when it comes, changes nothing. `taken` is the
            // wallet's side of the taking (negative); the return gives back exactly that.
            let taken = try await postOnce(
                topUp, .dispute, key: "dispute:\(disputeID):taken", walletAmount: -amount, on: connection, logger: logger)
            if status == "won" || status == "warning_closed" {
                try await postOnce(
                    topUp, .disputeReversal, key: "dispute:\(disputeID):returned", walletAmount: -taken, on: connection, logger: logger)
            }
            return (.applied, topUp.licenseeID)
        }
    }

    private func lockTopUp(paymentID: String, on connection: PostgresConnection, logger: Logger) async throws -> LockedTopUp? {
        let row = try await connection.query(
            "SELECT id, licensee_id, user_id, currency, refunded_amount FROM top_ups WHERE payment_id = \(paymentID) FOR UPDATE",
            logger: logger
        ).collect().first
        guard let (id, licenseeID, userID, currency, refunded) = try row?.decode((UUID, UUID, UUID, String, Int64).self) else {
            logger.notice("payment event for a payment Talktime did not start; acknowledged and ignored")
            return nil
        }
        return LockedTopUp(id: id, licenseeID: licenseeID, userID: userID, currency: currency, refundedAmount: refunded)
    }

    private func mismatch(_ topUp: LockedTopUp, _ currency: String, logger: Logger) -> Outcome {
        logger.error("payment event currency differs from its top-up's; nothing applied", metadata: ["top_up": "\(topUp.id)"])
        return .currencyMismatch
    }

    /// Posts the wallet's side of an event once per `key` against payment clearing, and returns the wallet
    /// amount recorded under the key: this posting's, or that of the first posting if the key came before.
    @discardableResult
    private func postOnce(
        _ topUp: LockedTopUp, _ kind: LedgerTransactionKind, key: String, walletAmount: Int64, on connection: PostgresConnection,
        logger: Logger
    ) async throws -> Int64 {
        let wallet = LedgerAccountRef.wallet(of: topUp.userID)
        let posting = try Posting(
            licenseeID: topUp.licenseeID, currency: topUp.currency, kind: kind, idempotencyKey: key,
            legs: [.init(wallet, walletAmount), .init(.paymentClearing, -walletAmount)],
            metadata: ["top_up_id": topUp.id.uuidString.lowercased()])
        do {
            return try await ledger.post(posting, on: connection, logger: logger).entry(for: wallet)?.amount ?? walletAmount
        } catch LedgerError.idempotencyKeyReused {
            // The same object reported with another amount (a dispute whose amount changed, say): what was
            // recorded first stands, and is what a later step must match.
            logger.warning("payment event disagrees with what was recorded for it; the first record stands")
            let earlier = try await connection.query(
                """
                SELECT e.amount FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id
                JOIN ledger_accounts a ON a.id = e.account_id
                WHERE t.licensee_id = \(topUp.licenseeID) AND t.idempotency_key = \(key) AND a.kind = 'wallet'
                """,
                logger: logger
            ).collect().first?.decode(Int64.self)
            return earlier ?? walletAmount
        }
    }
}
