import Foundation
import Logging
import PostgresNIO

/// The devices a user receives pushes on.
public struct DeviceRegistry: Sendable {
    /// A registered device; its token is never shown back.
    public struct Device: Sendable, Equatable {
        public var id: UUID
        public var platform: DevicePlatform
        public var createdAt: Date
    }

    /// How many devices a user keeps: registering one more forgets the one registered (or refreshed) longest
    /// ago. Every call's push goes to all of a user's devices, so their number must be bounded; a stale token
    /// is otherwise only forgotten when the push service says it is unknown.
    public static let maximumDevicesPerUser = 10

    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Registers `token` for the user; a token registered before (by this user or another of the Licensee)
    /// moves to this user and keeps its id.
    public func register(platform: DevicePlatform, token: String, for user: Principal, logger: Logger) async throws -> Device {
        guard let licenseeID = user.licenseeID, !user.isAPIKey else { throw CallError.invalidChange("Only a user's app registers devices.") }
        // Exactly the contract's pattern (`^[!-~]{1,4096}$`): visible ASCII only, nothing trimmed, no control
        // characters (a token is the push service's, byte for byte).
        guard (1...4096).contains(token.utf8.count), token.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw CallError.invalidChange("'token' must be 1 to 4096 printable ASCII characters, without spaces.")
        }
        if platform == .ios, !(token.count.isMultiple(of: 2) && token.allSatisfy(\.isHexDigit)) {
            throw CallError.invalidChange("An iOS VoIP 'token' is hexadecimal.")
        }
        return try await database.withTransaction(.licensee(licenseeID), logger: logger) { connection in
            let row = try await connection.query(
                """
                INSERT INTO devices (licensee_id, user_id, platform, token) VALUES (\(licenseeID), \(user.id), \(platform.rawValue), \(token))
                ON CONFLICT (licensee_id, platform, token) DO UPDATE SET user_id = excluded.user_id, updated_at = now()
                RETURNING id, created_at
                """, logger: logger
            ).collect().first
            guard let (id, createdAt) = try row?.decode((UUID, Date).self) else { throw CallError.invalidChange("The device was not saved.") }
            try await connection.query(
                """
                DELETE FROM devices WHERE id IN (
                    SELECT id FROM devices WHERE licensee_id = \(licenseeID) AND user_id = \(user.id)
                    ORDER BY updated_at DESC, created_at DESC, id OFFSET \(Self.maximumDevicesPerUser))
                """, logger: logger)
            return Device(id: id, platform: platform, createdAt: createdAt)
        }
    }

    /// Forgets one of the user's own devices; someone else's device is not found.
    public func remove(_ id: UUID, of user: Principal, logger: Logger) async throws {
        guard let licenseeID = user.licenseeID else { throw CallError.callNotFound }
        let deleted = try await database.withTransaction(.licensee(licenseeID), logger: logger) { connection in
            try await connection.query("DELETE FROM devices WHERE id = \(id) AND user_id = \(user.id) RETURNING id", logger: logger).collect()
        }
        guard !deleted.isEmpty else { throw DeviceNotFound() }
    }
}

/// No such device among the user's own.
public struct DeviceNotFound: Error, Sendable {}
