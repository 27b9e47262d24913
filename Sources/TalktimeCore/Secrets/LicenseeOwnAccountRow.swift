import Foundation
import Logging
import PostgresNIO

/// What the stores of Licensees' own outside-service accounts share: each keeps one row per Licensee in its
/// table, which the Licensee's admins remove with an audit record.
enum LicenseeOwnAccountRow {
    /// Deletes the admin's Licensee's row of `table` and records `action`; not found when there is none.
    static func remove(from table: String, audited action: String, by admin: Principal, database: Database, logger: Logger) async throws {
        guard let licenseeID = admin.adminsOwnLicensee else { throw IdentityError.forbidden }
        try await database.withTransaction(admin.scope, logger: logger) { connection in
            let removed = try await connection.query(
                "DELETE FROM \(unescaped: table) WHERE licensee_id = \(licenseeID) RETURNING licensee_id", logger: logger
            ).collect()
            guard !removed.isEmpty else { throw LicenseeAccountError.notFound }
            try await AuditLog.record(action, by: admin, target: ("licensee", licenseeID.uuidString), on: connection, logger: logger)
        }
    }
}
