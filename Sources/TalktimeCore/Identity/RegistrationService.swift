import Foundation
import Logging
import PostgresNIO
import TalktimeSecurity

/// New accounts: End Users register themselves; Advisors and Licensee admins join by invitation.
public struct RegistrationService: Sendable {
    static let invitationPrefix = "inv"

    /// An invitation as its admins see it; the token is returned once, at creation.
    public struct Invitation: Sendable, Equatable {
        public let id: UUID
        public let licenseeID: UUID
        public let email: String
        public let role: UserRole
        public let expiresAt: Date
    }

    let database: Database
    let hasher: PasswordHasher
    let authentication: AuthenticationService
    let settings: IdentitySettings
    let now: @Sendable () -> Date

    public init(
        database: Database, hasher: PasswordHasher, authentication: AuthenticationService, settings: IdentitySettings,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.database = database
        self.hasher = hasher
        self.authentication = authentication
        self.settings = settings
        self.now = now
    }

    /// An End User account under `licenseeID`, logged in at once.
    public func register(licenseeID: UUID, email: String, password: String, displayName: String, logger: Logger) async throws -> TokenPair {
        let email = try Self.validEmail(email)
        let displayName = try Self.validDisplayName(displayName)
        try PasswordService.check(password, email: email)
        let hash = try await hasher.hash(password)
        let account = try await database.withTransaction(.licensee(licenseeID), logger: logger) { connection in
            try await Self.insertUser(
                licenseeID: licenseeID, role: .endUser, email: email, hash: hash, displayName: displayName, on: connection, logger: logger)
        }
        return try await authentication.startSession(for: account, logger: logger)
    }

    /// Invites an Advisor or Licensee admin. Licensee admins invite into their own Licensee; platform admins
    /// into any. The token in the result is the only copy: it goes to the invitee out of band.
    public func invite(email: String, role: UserRole, into licenseeID: UUID?, by inviter: Principal, logger: Logger) async throws
        -> (Invitation, token: String)
    {
        guard role == .advisor || role == .licenseeAdmin else { throw IdentityError.invalidInput("'role' must be advisor or licensee_admin.") }
        let target: UUID
        switch (inviter.role, inviter.isAPIKey) {
        case (.licenseeAdmin, false):
            guard let own = inviter.licenseeID, licenseeID == nil || licenseeID == own else { throw IdentityError.notFound }
            target = own
        case (.platformAdmin, _):
            guard let licenseeID else { throw IdentityError.invalidInput("'licensee_id' is required.") }
            target = licenseeID
        default:
            throw IdentityError.forbidden
        }
        let email = try Self.validEmail(email)
        let token = OpaqueToken.generate(prefix: Self.invitationPrefix, licenseeID: target)
        let expiresAt = now().adding(settings.invitationLifetime)
        let invitation = try await database.withTransaction(.licensee(target), logger: logger) { connection in
            // Under the Licensee's scope, an unknown or foreign Licensee id finds no row here.
            guard !(try await connection.query("SELECT 1 FROM licensees WHERE id = \(target)", logger: logger).collect().isEmpty) else {
                throw IdentityError.notFound
            }
            let invitedByUser: UUID? = inviter.licenseeID == nil ? nil : inviter.id
            let invitedByAdmin: UUID? = inviter.licenseeID == nil ? inviter.id : nil
            let id = try await connection.query(
                """
                INSERT INTO invitations (licensee_id, email, role, token_hash, invited_by_user_id, invited_by_platform_admin_id, expires_at)
                VALUES (\(target), \(email), \(role.rawValue), \(token.hash), \(invitedByUser), \(invitedByAdmin), \(expiresAt))
                RETURNING id
                """,
                logger: logger
            ).collect().first!.decode(UUID.self)
            try await AuditLog.record(
                "invitation.created", by: inviter, licenseeID: target, target: ("invitation", id.uuidString), details: ["role": role.rawValue],
                on: connection, logger: logger)
            return Invitation(id: id, licenseeID: target, email: email, role: role, expiresAt: expiresAt)
        }
        return (invitation, token.value)
    }

    /// Creates the invited account (single use, before expiry) and logs it in.
    public func acceptInvitation(token presented: String, password: String, displayName: String, logger: Logger) async throws -> TokenPair {
        guard let token = OpaqueToken(parsing: presented, prefix: Self.invitationPrefix), let licenseeID = token.licenseeID else {
            throw IdentityError.invalidToken
        }
        let displayName = try Self.validDisplayName(displayName)
        let now = now()
        // Checked before the password is hashed, so a bad token costs no BCrypt.
        let invitation = try await database.withTransaction(.licensee(licenseeID), logger: logger) { connection in
            try await connection.query(
                "SELECT email, role FROM invitations WHERE token_hash = \(token.hash) AND accepted_at IS NULL AND expires_at > \(now)",
                logger: logger
            ).collect().first?.decode((String, String).self)
        }
        guard let (email, roleName) = invitation, let role = UserRole(rawValue: roleName) else { throw IdentityError.invalidToken }
        try PasswordService.check(password, email: email)
        let hash = try await hasher.hash(password)
        let account = try await database.withTransaction(.licensee(licenseeID), logger: logger) { connection in
            // Claimed under a row lock: of two acceptances at once, the second finds it accepted.
            let claimed = try await connection.query(
                """
                SELECT id FROM invitations WHERE token_hash = \(token.hash) AND accepted_at IS NULL AND expires_at > \(now) FOR UPDATE
                """,
                logger: logger
            ).collect().first?.decode(UUID.self)
            guard let invitationID = claimed else { throw IdentityError.invalidToken }
            let account = try await Self.insertUser(
                licenseeID: licenseeID, role: role, email: email, hash: hash, displayName: displayName, on: connection, logger: logger)
            if role == .advisor {
                try await connection.query(
                    """
                    INSERT INTO advisor_profiles (user_id, licensee_id, rate_per_minute_minor)
                    SELECT \(account.id), id, advisor_rate_min_minor FROM licensees WHERE id = \(licenseeID)
                    """,
                    logger: logger)
            }
            try await connection.query(
                "UPDATE invitations SET accepted_at = \(now), accepted_user_id = \(account.id) WHERE id = \(invitationID)", logger: logger)
            return account
        }
        return try await authentication.startSession(for: account, logger: logger)
    }

    /// A platform admin, made from the command line (the first one has nobody to invite it).
    public static func createPlatformAdmin(
        email: String, password: String, displayName: String, database: Database, hasher: PasswordHasher, logger: Logger
    ) async throws -> UUID {
        let email = try validEmail(email)
        let displayName = try validDisplayName(displayName)
        try PasswordService.check(password, email: email)
        let hash = try await hasher.hash(password)
        return try await database.withTransaction(.platform, logger: logger) { connection in
            let rows = try await connection.query(
                """
                INSERT INTO platform_admins (email, password_hash, display_name) VALUES (\(email), \(hash), \(displayName))
                ON CONFLICT (lower(email)) DO NOTHING RETURNING id
                """,
                logger: logger
            ).collect()
            guard let id = try rows.first?.decode(UUID.self) else { throw IdentityError.emailTaken }
            return id
        }
    }

    static func insertUser(
        licenseeID: UUID, role: UserRole, email: String, hash: String, displayName: String, on connection: PostgresConnection, logger: Logger
    ) async throws -> AccountRecord {
        let rows = try await connection.query(
            """
            INSERT INTO users (licensee_id, role, email, password_hash, display_name)
            VALUES (\(licenseeID), \(role.rawValue), \(email), \(hash), \(displayName))
            ON CONFLICT (licensee_id, lower(email)) DO NOTHING
            RETURNING id
            """,
            logger: logger
        ).collect()
        guard let id = try rows.first?.decode(UUID.self) else { throw IdentityError.emailTaken }
        return AccountRecord(
            id: id, licenseeID: licenseeID, role: role, email: email, displayName: displayName, isBlocked: false, passwordHash: hash,
            tokenGeneration: 0)
    }

    static func validEmail(_ email: String) throws(IdentityError) -> String {
        let email = email.trimmingCharacters(in: .whitespacesAndNewlines)
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.utf8.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."),
            !parts[1].hasSuffix("."), !email.contains(where: { $0.isWhitespace || $0.isNewline })
        else { throw .invalidInput("'email' is not an email address.") }
        return email
    }

    static func validDisplayName(_ name: String) throws(IdentityError) -> String {
        // Line breaks and NUL are refused anywhere, also where trimming would have removed them, as the schema says.
        let onOneLine = !name.contains(where: { $0.isNewline }) && !name.unicodeScalars.contains("\u{0}")
        let raw = name.unicodeScalars.count
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard onOneLine, raw <= 100, (1...100).contains(name.unicodeScalars.count) else {
            throw .invalidInput("'display_name' must have 1 to 100 characters on one line.")
        }
        return name
    }
}
