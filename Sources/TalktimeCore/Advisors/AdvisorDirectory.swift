import Foundation
import Logging
import PostgresNIO

/// The approved Advisors of a Licensee, as End Users browse them, and each Advisor's own profile.
public struct AdvisorDirectory: Sendable {
    /// A listing filter; nil matches everything.
    public struct Filter: Sendable, Equatable {
        public var category: String?
        public var language: String?
        public var presence: Advisor.Presence?

        public init(category: String? = nil, language: String? = nil, presence: Advisor.Presence? = nil) {
            self.category = category
            self.language = language
            self.presence = presence
        }
    }

    public struct Page: Sendable {
        public var advisors: [Advisor]
        public var hasMore: Bool
    }

    let database: Database

    public init(database: Database) {
        self.database = database
    }

    private static let selection = """
        SELECT p.user_id, u.display_name, p.bio, p.avatar_url, p.categories, p.languages, p.rate_per_minute_minor, l.currency::text,
               p.presence, CASE p.presence WHEN 'available' THEN 0 WHEN 'busy' THEN 1 ELSE 2 END AS rank
        FROM advisor_profiles p
        JOIN users u ON u.id = p.user_id AND u.licensee_id = p.licensee_id
        JOIN licensees l ON l.id = p.licensee_id
        WHERE p.approval_status = 'approved' AND u.status = 'active'
        """

    /// Approved Advisors matching `filter`, available first, then by id: at most `limit`, after `startingAfter`.
    public func list(in licenseeID: UUID, filter: Filter, limit: Int, startingAfter: UUID?, logger: Logger) async throws -> Page {
        guard (1...100).contains(limit) else { throw CallError.invalidChange("'limit' must lie between 1 and 100.") }
        return try await database.withTransaction(.licensee(licenseeID), logger: logger) { connection in
            var after: (Int32, UUID) = (-1, UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))
            if let startingAfter {
                // The cursor Advisor's rank now: a presence change between pages moves them, never repeats a page.
                guard
                    let advisor = try await connection.query(
                        "\(unescaped: Self.selection) AND p.user_id = \(startingAfter)", logger: logger
                    ).collect().first.map(Self.decode)
                else { throw CallError.advisorNotFound }
                after = (Int32(advisor.presence.rank), advisor.id)
            }
            let rows = try await connection.query(
                """
                SELECT * FROM (\(unescaped: Self.selection)) a
                WHERE (\(filter.category)::text IS NULL OR \(filter.category) = ANY (a.categories))
                  AND (\(filter.language)::text IS NULL OR \(filter.language) = ANY (a.languages))
                  AND (\(filter.presence?.rawValue)::text IS NULL OR a.presence = \(filter.presence?.rawValue))
                  AND (a.rank, a.user_id) > (\(after.0), \(after.1))
                ORDER BY a.rank, a.user_id
                LIMIT \(limit + 1)
                """, logger: logger)
            var advisors: [Advisor] = []
            for try await row in rows { advisors.append(try Self.decode(row)) }
            return Page(advisors: Array(advisors.prefix(limit)), hasMore: advisors.count > limit)
        }
    }

    /// One approved Advisor of the Licensee.
    public func advisor(_ id: UUID, in licenseeID: UUID, logger: Logger) async throws -> Advisor {
        try await database.withTransaction(.licensee(licenseeID), logger: logger) { connection in
            guard
                let advisor = try await connection.query("\(unescaped: Self.selection) AND p.user_id = \(id)", logger: logger)
                    .collect().first.map(Self.decode)
            else { throw CallError.advisorNotFound }
            return advisor
        }
    }

    /// The Advisor changes their own profile: the rate within the Licensee's bounds, presence `available` or
    /// `offline` (going available during a call is refused: the call ends first).
    public func update(_ change: AdvisorProfileChange, of advisor: Principal, logger: Logger) async throws -> Advisor {
        guard advisor.role == .advisor, let licenseeID = advisor.licenseeID else { throw CallError.advisorNotFound }
        try Self.validate(change)
        return try await database.withTransaction(.licensee(licenseeID), logger: logger) { connection in
            guard
                let (presence, minimum, maximum) = try await connection.query(
                    """
                    SELECT p.presence, l.advisor_rate_min_minor, l.advisor_rate_max_minor
                    FROM advisor_profiles p JOIN licensees l ON l.id = p.licensee_id
                    WHERE p.user_id = \(advisor.id) FOR UPDATE OF p
                    """, logger: logger
                ).collect().first?.decode((String, Int64, Int64).self)
            else { throw CallError.advisorNotFound }
            if let rate = change.ratePerMinute, !(minimum...maximum).contains(rate) {
                throw CallError.invalidChange("'rate_per_minute' must lie between \(minimum) and \(maximum).")
            }
            if change.presence == .available, presence == "busy" {
                throw CallError.invalidChange("You are in a call; you become available when it ends.")
            }
            try await connection.query(
                """
                UPDATE advisor_profiles SET
                    bio = coalesce(\(change.bio), bio),
                    avatar_url = CASE WHEN \(change.avatarURL != nil) THEN nullif(\(change.avatarURL ?? ""), '') ELSE avatar_url END,
                    categories = coalesce(\(change.categories)::text[], categories),
                    languages = coalesce(\(change.languages)::text[], languages),
                    rate_per_minute_minor = coalesce(\(change.ratePerMinute), rate_per_minute_minor),
                    presence = CASE WHEN presence = 'busy' THEN presence ELSE coalesce(\(change.presence?.rawValue), presence) END,
                    updated_at = now()
                WHERE user_id = \(advisor.id)
                """, logger: logger)
            return try await Self.profile(of: advisor.id, on: connection, logger: logger)
        }
    }

    /// The Advisor's own profile, approved or not.
    public func ownProfile(of advisor: Principal, logger: Logger) async throws -> Advisor {
        guard advisor.role == .advisor, let licenseeID = advisor.licenseeID else { throw CallError.advisorNotFound }
        return try await database.withTransaction(.licensee(licenseeID), logger: logger) { connection in
            try await Self.profile(of: advisor.id, on: connection, logger: logger)
        }
    }

    private static func profile(of advisorID: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Advisor {
        guard
            let profile = try await connection.query(
                """
                SELECT p.user_id, u.display_name, p.bio, p.avatar_url, p.categories, p.languages, p.rate_per_minute_minor,
                       l.currency::text, p.presence, 0
                FROM advisor_profiles p JOIN users u ON u.id = p.user_id JOIN licensees l ON l.id = p.licensee_id
                WHERE p.user_id = \(advisorID)
                """, logger: logger
            ).collect().first.map(Self.decode)
        else { throw CallError.advisorNotFound }
        return profile
    }

    static func validate(_ change: AdvisorProfileChange) throws {
        if let bio = change.bio, bio.count > 4000 { throw CallError.invalidChange("'bio' may hold at most 4000 characters.") }
        if let url = change.avatarURL, !url.isEmpty, !(url.hasPrefix("https://") && url.count <= 2048) {
            throw CallError.invalidChange("'avatar_url' must be an https URL.")
        }
        for (name, tags) in [("categories", change.categories), ("languages", change.languages)] {
            guard let tags else { continue }
            guard tags.count <= 20, tags.allSatisfy({ (1...50).contains($0.count) }) else {
                throw CallError.invalidChange("'\(name)' may hold at most 20 entries of 1 to 50 characters.")
            }
        }
        if change.presence == .busy { throw CallError.invalidChange("'presence' may be 'available' or 'offline'.") }
    }

    static func decode(_ row: PostgresRow) throws -> Advisor {
        let (id, name, bio, avatar, categories, languages, rate, currency, presence, _) = try row.decode(
            (UUID, String, String, String?, [String], [String], Int64, String, String, Int32).self)
        return Advisor(
            id: id, displayName: name, bio: bio, avatarURL: avatar, categories: categories, languages: languages, ratePerMinute: rate,
            currency: currency, presence: Advisor.Presence(rawValue: presence) ?? .offline)
    }
}
