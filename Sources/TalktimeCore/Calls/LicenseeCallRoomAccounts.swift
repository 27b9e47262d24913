import Foundation
import Logging
import PostgresNIO
import TalktimeSecurity

/// Each Licensee's own media-service (LiveKit) account, kept in the database with its secret sealed by a
/// `SecretBox`, in front of the platform's account from configuration: a Licensee without one of its own uses
/// the platform's. Licensee admins set, read (never the secret) and remove their own; every change is audited.
public struct LicenseeCallRoomAccounts: CallRoomCredentialStore {
    /// A Licensee's own account as its admins see it: never the secret.
    public struct Summary: Sendable, Equatable {
        public let serverURL: String
        public let apiKey: String
        public let updatedAt: Date
    }

    let database: Database
    let secrets: LicenseeSecrets
    let platform: CallRoomCredentials?
    let allowedHosts: [String]
    let now: @Sendable () -> Date

    /// - Parameters:
    ///   - secrets: seals and opens the API secrets; without it no Licensee can store an account of its own.
    ///   - platform: the account of Licensees without their own (nil: none, calls answer 503 for them).
    ///   - allowedHosts: the hosts (and their subdomains) a Licensee's project may be on. The service calls the
    ///     project's server API, so without this list an admin could make it call an internal address.
    public init(
        database: Database, secrets: SecretBox?, platform: CallRoomCredentials?, allowedHosts: [String],
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.database = database
        self.secrets = LicenseeSecrets(box: secrets, purpose: .liveKitAPISecret)
        self.platform = platform
        self.allowedHosts = allowedHosts.map { $0.lowercased() }
        self.now = now
    }

    public func credentials(forLicensee licenseeID: UUID, logger: Logger) async throws -> CallRoomCredentials? {
        let row = try await database.withTransaction(.licensee(licenseeID), logger: logger) { connection in
            try await connection.query(
                "SELECT server_url, api_key, api_secret_sealed FROM licensee_livekit_accounts WHERE licensee_id = \(licenseeID)",
                logger: logger
            ).collect().first?.decode((String, String, String).self)
        }
        guard let (serverURL, apiKey, sealed) = row else { return platform }
        // A Licensee that has its own account never falls back to the platform's: its rooms live elsewhere.
        guard let secret = secrets.open(sealed, of: licenseeID, logger: logger) else { throw CallError.roomUnavailable }
        return CallRoomCredentials(serverURL: serverURL, apiKey: apiKey, apiSecret: secret)
    }

    public func secret(forAPIKey apiKey: String, logger: Logger) async throws -> String? {
        if let platform, platform.apiKey == apiKey { return platform.apiSecret }
        let row = try await database.withTransaction(.platform, logger: logger) { connection in
            try await connection.query(
                "SELECT licensee_id, api_secret_sealed FROM licensee_livekit_accounts WHERE api_key = \(apiKey)", logger: logger
            ).collect().first?.decode((UUID, String).self)
        }
        guard let (licenseeID, sealed) = row else { return nil }
        return secrets.open(sealed, of: licenseeID, logger: logger)
    }

    /// Stores `account` as the admin's Licensee's own, replacing any earlier one.
    public func set(_ account: CallRoomCredentials, by admin: Principal, logger: Logger) async throws -> Summary {
        guard let licenseeID = admin.adminsOwnLicensee else { throw IdentityError.forbidden }
        let serverURL = account.serverURL.hasSuffix("/") ? String(account.serverURL.dropLast()) : account.serverURL
        try validate(serverURL: serverURL, apiKey: account.apiKey, apiSecret: account.apiSecret)
        guard account.apiKey != platform?.apiKey else { throw LicenseeAccountError.keyTaken }
        let sealed = try secrets.seal(account.apiSecret, for: licenseeID)
        let now = now()
        do {
            try await database.withTransaction(admin.scope, logger: logger) { connection in
                try await connection.query(
                    """
                    INSERT INTO licensee_livekit_accounts (licensee_id, server_url, api_key, api_secret_sealed, updated_at)
                    VALUES (\(licenseeID), \(serverURL), \(account.apiKey), \(sealed), \(now))
                    ON CONFLICT (licensee_id) DO UPDATE SET
                        server_url = excluded.server_url, api_key = excluded.api_key,
                        api_secret_sealed = excluded.api_secret_sealed, updated_at = excluded.updated_at
                    """, logger: logger)
                try await AuditLog.record(
                    "livekit_account.set", by: admin, target: ("licensee", licenseeID.uuidString), details: ["server_url": serverURL],
                    on: connection, logger: logger)
            }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw LicenseeAccountError.keyTaken
        }
        return Summary(serverURL: serverURL, apiKey: account.apiKey, updatedAt: now)
    }

    /// The admin's Licensee's own account.
    public func summary(by admin: Principal, logger: Logger) async throws -> Summary {
        guard let licenseeID = admin.adminsOwnLicensee else { throw IdentityError.forbidden }
        let row = try await database.withTransaction(admin.scope, logger: logger) { connection in
            try await connection.query(
                "SELECT server_url, api_key, updated_at FROM licensee_livekit_accounts WHERE licensee_id = \(licenseeID)", logger: logger
            ).collect().first?.decode((String, String, Date).self)
        }
        guard let (serverURL, apiKey, updatedAt) = row else { throw LicenseeAccountError.notFound }
        return Summary(serverURL: serverURL, apiKey: apiKey, updatedAt: updatedAt)
    }

    /// Forgets the admin's Licensee's own account: its calls use the platform's from then on.
    public func remove(by admin: Principal, logger: Logger) async throws {
        try await LicenseeOwnAccountRow.remove(
            from: "licensee_livekit_accounts", audited: "livekit_account.removed", by: admin, database: database, logger: logger)
    }

    func validate(serverURL: String, apiKey: String, apiSecret: String) throws {
        guard let url = URLComponents(string: serverURL), ["ws", "wss", "http", "https"].contains(url.scheme ?? ""),
            let host = url.host?.lowercased(), !host.isEmpty, url.path.isEmpty, url.query == nil, url.fragment == nil, url.user == nil,
            serverURL.utf8.count <= 300
        else {
            throw LicenseeAccountError.invalid("'url' must be a ws, wss, http or https URL with a host and nothing after it.")
        }
        guard allowedHosts.contains(where: { host == $0 || host.hasSuffix("." + $0) }) else {
            throw LicenseeAccountError.invalid(
                "'url' must be on a host this platform allows: \(allowedHosts.joined(separator: ", ")) (its operator can add others).")
        }
        guard (1...200).contains(apiKey.utf8.count), apiKey.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw LicenseeAccountError.invalid("'api_key' must be 1 to 200 printable ASCII characters without spaces.")
        }
        // HS256 with a shorter secret is weak (the platform's own secret has the same floor).
        guard (32...512).contains(apiSecret.utf8.count), !apiSecret.utf8.contains(0) else {
            throw LicenseeAccountError.invalid("'api_secret' must have 32 to 512 characters.")
        }
    }
}
