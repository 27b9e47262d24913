import Foundation
import Logging
import PostgresNIO

/// Seeds a demo Licensee with one account of each tenant role, so a newcomer has something to call.
public struct DemoSeeder: Sendable {
    public static let licenseeSlug = "demo"
    /// The demo End User's starting balance, in cents: ten minutes at the demo Advisor's rate and some.
    public static let demoCredit: Int64 = 2_500

    /// A demo account's credentials, printed once when the account is made.
    public struct Login: Sendable, Equatable {
        public let role: UserRole
        public let email: String
        public let password: String
    }

    let database: Database
    let hasher: PasswordHasher

    public init(database: Database, hasher: PasswordHasher) {
        self.database = database
        self.hasher = hasher
    }

    /// Creates the demo data and returns its logins, or returns nil when the demo Licensee already exists
    /// (its passwords were printed when it was made and are not stored anywhere in clear).
    public func seedIfAbsent(logger: Logger) async throws -> [Login]? {
        let accounts: [(UserRole, String, String)] = [
            (.licenseeAdmin, "admin@demo.example", "Demo Admin"),
            (.advisor, "advisor@demo.example", "Demo Advisor"),
            (.endUser, "user@demo.example", "Demo User"),
        ]
        var logins: [Login] = []
        var hashes: [String] = []
        for (role, email, _) in accounts {
            let password = Self.randomPassword()
            logins.append(Login(role: role, email: email, password: password))
            hashes.append(try await hasher.hash(password))
        }
        let rows = zip(accounts, hashes).map { account, hash in (account.0, account.1, account.2, hash) }
        return try await database.withTransaction(.platform, logger: logger) { connection -> [Login]? in
            let inserted = try await connection.query(
                """
                INSERT INTO licensees (slug, name, app_name, primary_color, support_email, currency, licence_status)
                VALUES (\(Self.licenseeSlug), 'Demo Licensee', 'Talktime Demo', '#3355ff', 'support@demo.example', 'EUR', 'active')
                ON CONFLICT (slug) DO NOTHING
                RETURNING id
                """,
                logger: logger
            ).collect()
            guard let licenseeID = try inserted.first?.decode(UUID.self) else { return nil }
            for (role, email, displayName, hash) in rows {
                let userID = try await connection.query(
                    """
                    INSERT INTO users (licensee_id, role, email, password_hash, display_name)
                    VALUES (\(licenseeID), \(role.rawValue), \(email), \(hash), \(displayName))
                    RETURNING id
                    """,
                    logger: logger
                ).collect().first!.decode(UUID.self)
                if role == .endUser {
                    // Enough for a few minutes with the demo Advisor, so the first call can start at once.
                    let credit = try Posting(
                        licenseeID: licenseeID, currency: "EUR", kind: .promo, idempotencyKey: "demo-credit:\(userID.uuidString.lowercased())",
                        legs: [.init(.wallet(of: userID), Self.demoCredit), .init(.promotions, -Self.demoCredit)],
                        metadata: ["reason": "demo credit"])
                    _ = try await Ledger(database: database).post(credit, on: connection, logger: logger)
                }
                if role == .advisor {
                    try await connection.query(
                        """
                        INSERT INTO advisor_profiles
                            (user_id, licensee_id, bio, categories, languages, rate_per_minute_minor, approval_status, presence)
                        VALUES (\(userID), \(licenseeID), 'Demo advisor, always happy to talk.', ARRAY['astrology'], ARRAY['en'],
                                199, 'approved', 'available')
                        """,
                        logger: logger
                    )
                }
            }
            return logins
        }
    }

    static func randomPassword() -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<16).map { _ in alphabet.randomElement(using: &generator)! })
    }
}
