import Foundation
import Logging
import PostgresNIO
import TalktimeSecurity

/// Logs accounts in and out, rotates refresh tokens, and turns a bearer credential into a `Principal`.
public struct AuthenticationService: Sendable {
    let database: Database
    let hasher: PasswordHasher
    let tokens: AccessTokens
    let throttle: LoginThrottle
    let apiKeys: APIKeyService
    let settings: IdentitySettings
    /// What the database last said about access tokens' sessions; empty and unused unless a
    /// `SessionChangeListener` feeds it.
    public let sessions: SessionValidityCache
    let now: @Sendable () -> Date

    public init(
        database: Database, hasher: PasswordHasher, tokens: AccessTokens, settings: IdentitySettings,
        sessions: SessionValidityCache = SessionValidityCache(), now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.database = database
        self.sessions = sessions
        self.hasher = hasher
        self.tokens = tokens
        self.throttle = LoginThrottle(database: database, settings: settings.loginThrottle)
        self.apiKeys = APIKeyService(database: database, now: now)
        self.settings = settings
        self.now = now
    }

    /// Logs in a tenant account (`licenseeID` given) or a platform admin (nil).
    ///
    /// Unknown accounts, wrong passwords and blocked accounts get one and the same answer, after the same work:
    /// a BCrypt verification (against a dummy hash when there is no account) and the same throttle bookkeeping.
    public func login(licenseeID: UUID?, email: String, password: String, logger: Logger) async throws -> TokenPair {
        let accountKey = LoginThrottle.accountKey(licenseeID: licenseeID, email: email)
        let delay = try await throttle.admit(accountKey: accountKey, now: now(), logger: logger)
        if delay > .zero { try await Task.sleep(for: delay) }

        let scope = licenseeID.map(TenantScope.licensee) ?? .platform
        let account = try await database.withTransaction(scope, logger: logger) { connection in
            try await AccountStore.find(email: email, licenseeID: licenseeID, on: connection, logger: logger)
        }
        let matches = try await hasher.verify(password, against: account?.passwordHash)
        guard let account, matches, !account.isBlocked else {
            try await throttle.recordFailure(accountKey: accountKey, now: now(), logger: logger)
            throw IdentityError.invalidCredentials
        }
        try await throttle.recordSuccess(accountKey: accountKey, logger: logger)
        let upgradedHash = hasher.needsRehash(account.passwordHash) ? try await hasher.hash(password) : nil
        return try await startSession(for: account, logger: logger) { connection in
            if let upgradedHash {
                try await AccountStore.setPasswordHash(upgradedHash, for: account, on: connection, logger: logger)
            }
        }
    }

    /// Exchanges a refresh token for a new pair. A token presented twice revokes its whole session.
    public func refresh(_ presented: String, logger: Logger) async throws -> TokenPair {
        guard let token = OpaqueToken(parsing: presented, prefix: SessionStore.tokenPrefix) else { throw IdentityError.invalidToken }
        let scope = token.licenseeID.map(TenantScope.licensee) ?? .platform
        let now = now()
        // The transaction commits a detected reuse's revocation before the error goes out.
        let rotation = try await database.withTransaction(scope, logger: logger) { connection in
            try await SessionStore.rotate(token, now: now, settings: settings, on: connection, logger: logger)
        }
        switch rotation {
        case .rotated(let account, let sessionID, let refreshToken):
            return try await pair(for: account, sessionID: sessionID, refreshToken: refreshToken)
        case .reuseDetected(let sessionID):
            sessions.forget(session: sessionID)
            logger.warning("refresh token reuse detected; session revoked")
            throw IdentityError.invalidToken
        case .invalid:
            throw IdentityError.invalidToken
        }
    }

    /// Ends the principal's login session: its refresh tokens and its access tokens stop working.
    public func logout(_ principal: Principal, logger: Logger) async throws {
        guard case .accessToken(let sessionID) = principal.credential else { throw IdentityError.forbidden }
        try await sessions.forgetting(account: principal.id) {
            try await database.withTransaction(principal.scope, logger: logger) { connection in
                try await SessionStore.revoke(sessionID: sessionID, reason: "logout", on: connection, logger: logger)
            }
        }
    }

    /// Ends every session of the principal's account and invalidates every access token issued to it.
    public func logoutAll(_ principal: Principal, logger: Logger) async throws {
        guard case .accessToken = principal.credential else { throw IdentityError.forbidden }
        try await sessions.forgetting(account: principal.id) {
            try await database.withTransaction(principal.scope, logger: logger) { connection in
                guard
                    let account = try await AccountStore.find(id: principal.id, licenseeID: principal.licenseeID, on: connection, logger: logger)
                else { throw IdentityError.invalidToken }
                try await Self.revokeEverything(of: account, reason: "logout_all", on: connection, logger: logger)
            }
        }
    }

    /// The caller behind `Authorization: Bearer <credential>`: an access token or an API key.
    public func authenticate(bearer credential: String, logger: Logger) async throws -> Principal {
        if credential.hasPrefix(APIKeyService.tokenPrefix + "_") {
            return try await apiKeys.authenticate(credential, logger: logger)
        }
        let claims: AccessTokenClaims
        do {
            claims = try await tokens.verify(credential)
        } catch {
            throw IdentityError.invalidToken
        }
        guard let accountID = UUID(uuidString: claims.sub.value), let sessionID = UUID(uuidString: claims.sessionID),
            let role = UserRole(rawValue: claims.role)
        else { throw IdentityError.invalidToken }
        let licenseeID: UUID?
        if let text = claims.licenseeID {
            guard let id = UUID(uuidString: text) else { throw IdentityError.invalidToken }
            licenseeID = id
        } else {
            licenseeID = nil
        }
        guard (licenseeID == nil) == (role == .platformAdmin) else { throw IdentityError.invalidToken }
        // The signature proves who issued the token; the database says whether it still stands.
        let key = SessionValidityCache.Key(
            sessionID: sessionID, accountID: accountID, role: role, licenseeID: licenseeID, generation: claims.generation)
        guard let account = try await accountBehind(key, logger: logger) else { throw IdentityError.invalidToken }
        return Principal(
            id: accountID, role: role, licenseeID: licenseeID, credential: .accessToken(sessionID: sessionID), email: account.email,
            displayName: account.displayName)
    }

    /// The account behind a token's claims if the token still stands: remembered, or asked of the database.
    func accountBehind(_ key: SessionValidityCache.Key, logger: Logger) async throws -> SessionValidityCache.Account? {
        let now = now()
        if let account = sessions.account(for: key, now: now) { return account }
        let ticket = sessions.beginRead()
        guard let (account, sessionExpiresAt) = try await SessionStore.accountBehindToken(key, now: now, database: database, logger: logger)
        else { return nil }
        if let ticket { sessions.remember(account, for: key, sessionExpiresAt: sessionExpiresAt, now: now, ticket: ticket) }
        return account
    }

    /// The JSON Web Key Set that verifies our access tokens.
    public var jwks: JSONWebKeySet { tokens.jwks }

    /// Starts a login session for `account`, running `alsoInTransaction` in the same transaction.
    func startSession(
        for account: AccountRecord, logger: Logger,
        alsoInTransaction: (PostgresConnection) async throws -> Void = { _ in }
    ) async throws -> TokenPair {
        let now = now()
        let (sessionID, refreshToken) = try await database.withTransaction(account.scope, logger: logger) { connection in
            try await alsoInTransaction(connection)
            return try await SessionStore.start(for: account, now: now, settings: settings, on: connection, logger: logger)
        }
        return try await pair(for: account, sessionID: sessionID, refreshToken: refreshToken)
    }

    func pair(for account: AccountRecord, sessionID: UUID, refreshToken: OpaqueToken) async throws -> TokenPair {
        let subject = AccessTokenSubject(
            accountID: account.id, role: account.role.rawValue, licenseeID: account.licenseeID, sessionID: sessionID,
            generation: account.tokenGeneration)
        let (accessToken, expiresIn) = try await tokens.issue(for: subject)
        return TokenPair(accessToken: accessToken, expiresIn: expiresIn, refreshToken: refreshToken.value)
    }

    /// Revokes every session and bumps the token generation: for logout-all, password changes and blocking.
    static func revokeEverything(of account: AccountRecord, reason: String, on connection: PostgresConnection, logger: Logger) async throws {
        try await SessionStore.revokeAll(of: account, reason: reason, on: connection, logger: logger)
        try await AccountStore.bumpTokenGeneration(for: account, on: connection, logger: logger)
    }
}
