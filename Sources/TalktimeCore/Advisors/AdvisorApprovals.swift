import Foundation
import Logging
import PostgresNIO

/// Whether a Licensee lets an Advisor take calls. Advisors join `pending`; only `approved` ones are listed to
/// End Users and can be called.
public enum AdvisorApprovalStatus: String, Sendable, CaseIterable, Codable {
    case pending, approved, rejected, suspended
}

/// A Licensee admin's decision on their Advisors, audited.
public struct AdvisorApprovals: Sendable {
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
}
