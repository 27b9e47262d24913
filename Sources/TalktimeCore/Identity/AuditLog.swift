import Foundation
import Logging
import PostgresNIO

/// The append-only record of admin actions, written in the same transaction as the action itself.
enum AuditLog {
    static func record(
        _ action: String, by actor: Principal, licenseeID: UUID? = nil, target: (type: String, id: String)? = nil, details: [String: String] = [:],
        on connection: PostgresConnection, logger: Logger
    ) async throws {
        let userID: UUID? = actor.isAPIKey || actor.licenseeID == nil ? nil : actor.id
        let adminID: UUID? = actor.licenseeID == nil ? actor.id : nil
        let keyID: UUID? = actor.isAPIKey ? actor.id : nil
        let detailsJSON = String(decoding: try JSONEncoder().encode(details), as: UTF8.self)
        try await connection.query(
            """
            INSERT INTO audit_log (licensee_id, actor_user_id, actor_platform_admin_id, actor_api_key_id, action, target_type, target_id, details)
            VALUES (\(licenseeID ?? actor.licenseeID), \(userID), \(adminID), \(keyID), \(action), \(target?.type), \(target?.id), \(detailsJSON)::jsonb)
            """,
            logger: logger)
    }
}
