import Foundation
import Logging
import PostgresNIO
import TalktimeCore

/// A Licensee with an Advisor and End Users, inserted straight into the database, for tests of money.
public struct MoneyFixture: Sendable {
    public let licenseeID: UUID
    public let currency: String
    public let advisorID: UUID
    public let endUserIDs: [UUID]
    public let platformFeeBasisPoints: Int
    public let commissionBasisPoints: Int

    /// Inserts the Licensee `slug` and its people.
    public static func create(
        in database: Database, slug: String = "money", endUsers: Int = 2, platformFeeBasisPoints: Int = 1000,
        commissionBasisPoints: Int = 2000, logger: Logger = TestPostgres.logger
    ) async throws -> MoneyFixture {
        try await database.withTransaction(.platform, logger: logger) { connection in
            let licenseeID = try await connection.query(
                """
                INSERT INTO licensees (slug, name, app_name, currency, platform_fee_bps, commission_bps, licence_status)
                VALUES (\(slug), \(slug), \(slug), 'EUR', \(platformFeeBasisPoints), \(commissionBasisPoints), 'active') RETURNING id
                """,
                logger: logger
            ).collect().first!.decode(UUID.self)
            func user(_ role: String, _ index: Int) async throws -> UUID {
                try await connection.query(
                    """
                    INSERT INTO users (licensee_id, role, email, password_hash, display_name)
                    VALUES (\(licenseeID), \(role), \("\(role)\(index)@\(slug).example"), 'x', \("\(role) \(index)")) RETURNING id
                    """,
                    logger: logger
                ).collect().first!.decode(UUID.self)
            }
            let advisorID = try await user("advisor", 0)
            var endUserIDs: [UUID] = []
            for index in 0..<endUsers { endUserIDs.append(try await user("end_user", index)) }
            return MoneyFixture(
                licenseeID: licenseeID, currency: "EUR", advisorID: advisorID, endUserIDs: endUserIDs,
                platformFeeBasisPoints: platformFeeBasisPoints, commissionBasisPoints: commissionBasisPoints)
        }
    }

    /// Credits `amount` to `user`'s wallet as a top-up would.
    @discardableResult
    public func fund(_ user: UUID, _ amount: Int64, key: String = UUID().uuidString, ledger: Ledger, logger: Logger = TestPostgres.logger)
        async throws -> PostedTransaction
    {
        try await ledger.post(
            try Posting(
                licenseeID: licenseeID, currency: currency, kind: .topUp, idempotencyKey: "fund:\(key)",
                legs: [.init(.paymentClearing, -amount), .init(.wallet(of: user), amount)]),
            logger: logger)
    }

    /// A call charge of `gross` from `user`'s wallet to the Advisor.
    public func charge(_ user: UUID, _ gross: Int64, key: String = UUID().uuidString) throws -> Posting {
        try .callCharge(
            licenseeID: licenseeID, currency: currency, idempotencyKey: "charge:\(key)", wallet: user, advisor: advisorID, gross: gross,
            platformFeeBasisPoints: platformFeeBasisPoints, commissionBasisPoints: commissionBasisPoints)
    }

    /// The wallet's balance as stored.
    public func walletBalance(_ user: UUID, database: Database, logger: Logger = TestPostgres.logger) async throws -> Int64 {
        try await database.withTransaction(.licensee(licenseeID), logger: logger) { connection in
            try await connection.query(
                "SELECT coalesce(sum(balance), 0)::int8 FROM ledger_accounts WHERE kind = 'wallet' AND owner_id = \(user)", logger: logger
            ).collect().first!.decode(Int64.self)
        }
    }
}
