import Foundation
import Logging
import PostgresNIO

/// Whether a Licensee lets an Advisor take calls. Advisors join `pending`; only `approved` ones are listed to
/// End Users and can be called.
public enum AdvisorApprovalStatus: String, Sendable, CaseIterable, Codable {
    case pending, approved, rejected, suspended
}

/// A Licensee admin's decisions on their Advisors, audited, and the list to decide from.
public struct AdvisorApprovals: Sendable {
    /// An Advisor as the Licensee's admins see them when deciding on them.
    public struct Entry: Sendable, Equatable {
        public let id: UUID
        public let displayName: String
        public let email: String
        public let approvalStatus: AdvisorApprovalStatus
        public let presence: Advisor.Presence
        public let joinedAt: Date
    }

    public struct Page: Sendable {
        public var entries: [Entry]
        public var hasMore: Bool
    }

    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Sets the approval status of `advisorID` to `status`. An Advisor who is no longer approved and was waiting
    /// for calls goes offline, so no stale presence outlives the decision; a call already running is left to end
    /// on its own. Another Licensee's Advisor, or a user who is not an Advisor, is not found.
    public func set(_ status: AdvisorApprovalStatus, advisorID: UUID, by admin: Principal, logger: Logger) async throws {
        guard admin.adminsOwnLicensee != nil else { throw IdentityError.forbidden }
        try await database.withTransaction(admin.scope, logger: logger) { connection in
            let changed = try await connection.query(
                """
                UPDATE advisor_profiles SET
                    approval_status = \(status.rawValue),
                    presence = CASE WHEN \(status.rawValue) <> 'approved' AND presence = 'available' THEN 'offline' ELSE presence END,
                    updated_at = now()
                WHERE user_id = \(advisorID)
                RETURNING user_id
                """, logger: logger
            ).collect()
            guard !changed.isEmpty else { throw CallError.advisorNotFound }
            try await AuditLog.record(
                "advisor.approval_set", by: admin, target: ("user", advisorID.uuidString), details: ["approval_status": status.rawValue],
                on: connection, logger: logger)
        }
    }

    /// The Licensee's Advisors with `status` (all when nil), those who joined first first: at most `limit`, after
    /// `startingAfter`. Admins read e-mail addresses here, which are personal data, so every read is audited.
    public func list(
        status: AdvisorApprovalStatus?, limit: Int, startingAfter: UUID?, by admin: Principal, logger: Logger
    ) async throws -> Page {
        guard admin.adminsOwnLicensee != nil else { throw IdentityError.forbidden }
        guard (1...100).contains(limit) else { throw CallError.invalidChange("'limit' must lie between 1 and 100.") }
        return try await database.withTransaction(admin.scope, logger: logger) { connection in
            var after = (Date.distantPast, UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))
            if let startingAfter {
                guard
                    let joined = try await connection.query(
                        "SELECT u.created_at FROM advisor_profiles p JOIN users u ON u.id = p.user_id WHERE p.user_id = \(startingAfter)",
                        logger: logger
                    ).collect().first?.decode(Date.self)
                else { throw CallError.advisorNotFound }
                after = (joined, startingAfter)
            }
            let rows = try await connection.query(
                """
                SELECT p.user_id, u.display_name, u.email, p.approval_status, p.presence, u.created_at
                FROM advisor_profiles p JOIN users u ON u.id = p.user_id AND u.licensee_id = p.licensee_id
                WHERE (\(status?.rawValue)::text IS NULL OR p.approval_status = \(status?.rawValue))
                  AND (u.created_at, u.id) > (\(after.0), \(after.1))
                ORDER BY u.created_at, u.id
                LIMIT \(limit + 1)
                """, logger: logger)
            var entries: [Entry] = []
            for try await (id, name, email, approval, presence, joined) in rows.decode((UUID, String, String, String, String, Date).self) {
                guard let approval = AdvisorApprovalStatus(rawValue: approval), let presence = Advisor.Presence(rawValue: presence) else { continue }
                entries.append(Entry(id: id, displayName: name, email: email, approvalStatus: approval, presence: presence, joinedAt: joined))
            }
            let page = Page(entries: Array(entries.prefix(limit)), hasMore: entries.count > limit)
            try await AuditLog.record(
                "advisors.listed", by: admin, details: ["approval_status": status?.rawValue ?? "any", "count": "\(page.entries.count)"],
                on: connection, logger: logger)
            return page
        }
    }
}
