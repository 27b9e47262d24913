import Foundation
import Logging
import PostgresNIO
import TalktimeSecurity

/// A Licensee's own push credentials: its branded app is its own Firebase project and its own App Store app, so
/// its Advisors' devices can be reached only with them.
public struct PushAccount: Sendable, Equatable {
    /// An APNs auth key (`.p8`) and the app it pushes to.
    public struct APNs: Sendable, Equatable {
        public var keyID: String
        public var teamID: String
        public var bundleID: String
        public var privateKeyPEM: String

        public init(keyID: String, teamID: String, bundleID: String, privateKeyPEM: String) {
            self.keyID = keyID
            self.teamID = teamID
            self.bundleID = bundleID
            self.privateKeyPEM = privateKeyPEM
        }
    }

    /// The Firebase service account's key file, as exported.
    public var fcmServiceAccountJSON: String?
    public var apns: APNs?

    public init(fcmServiceAccountJSON: String?, apns: APNs?) {
        self.fcmServiceAccountJSON = fcmServiceAccountJSON
        self.apns = apns
    }
}

/// Which notifier sends a Licensee's pushes.
public protocol PushNotifierDirectory: Sendable {
    func notifier(forLicensee licenseeID: UUID, logger: Logger) async throws -> any PushNotifier
}

/// One notifier for every Licensee (the platform's credentials only).
public struct SharedPushNotifier: PushNotifierDirectory {
    let notifier: any PushNotifier

    public init(_ notifier: any PushNotifier) {
        self.notifier = notifier
    }

    public func notifier(forLicensee licenseeID: UUID, logger: Logger) async throws -> any PushNotifier { notifier }
}

/// Each Licensee's own push credentials, kept in the database with the FCM key file and the APNs key sealed.
/// Licensee admins set, read (never a key) and remove their own; every change is audited.
public struct LicenseePushAccounts: Sendable {
    /// A Licensee's own credentials as its admins see them: who and where, never a key.
    public struct Summary: Sendable, Equatable {
        public let fcmProjectID: String?
        public let fcmClientEmail: String?
        public let apnsKeyID: String?
        public let apnsTeamID: String?
        public let apnsBundleID: String?
        public let updatedAt: Date
    }

    /// Checks credentials before they are stored (the push clients know what they need); throws
    /// `LicenseeAccountError.invalid` saying what is wrong, never quoting a key.
    public typealias Validator = @Sendable (PushAccount) throws -> Void

    let database: Database
    let secrets: LicenseeSecrets
    let validate: Validator
    let now: @Sendable () -> Date

    public init(database: Database, secrets: SecretBox?, validate: @escaping Validator, now: @escaping @Sendable () -> Date = Date.init) {
        self.database = database
        self.secrets = LicenseeSecrets(box: secrets, purpose: .pushCredentials)
        self.validate = validate
        self.now = now
    }

    /// The Licensee's own credentials with their keys opened, and when they were set; nil when it has none.
    /// Throws when they exist but cannot be opened (the pushes then fail rather than go out another way).
    public func account(forLicensee licenseeID: UUID, logger: Logger) async throws -> (PushAccount, updatedAt: Date)? {
        let row = try await database.withTransaction(.licensee(licenseeID), logger: logger) { connection in
            try await connection.query(
                """
                SELECT fcm_service_account_sealed, apns_key_id, apns_team_id, apns_bundle_id, apns_private_key_sealed, updated_at
                FROM licensee_push_accounts WHERE licensee_id = \(licenseeID)
                """, logger: logger
            ).collect().first?.decode((String?, String?, String?, String?, String?, Date).self)
        }
        guard let (fcmSealed, keyID, teamID, bundleID, apnsSealed, updatedAt) = row else { return nil }
        func open(_ sealed: String?) throws -> String? {
            guard let sealed else { return nil }
            guard let secret = secrets.open(sealed, of: licenseeID, logger: logger) else { throw LicenseeAccountError.unreadable }
            return secret
        }
        var apns: PushAccount.APNs?
        if let keyID, let teamID, let bundleID, let key = try open(apnsSealed) {
            apns = .init(keyID: keyID, teamID: teamID, bundleID: bundleID, privateKeyPEM: key)
        }
        return (PushAccount(fcmServiceAccountJSON: try open(fcmSealed), apns: apns), updatedAt)
    }

    /// Stores `account` as the admin's Licensee's own, replacing any earlier one.
    public func set(_ account: PushAccount, by admin: Principal, logger: Logger) async throws -> Summary {
        guard let licenseeID = admin.adminsOwnLicensee else { throw IdentityError.forbidden }
        guard account.fcmServiceAccountJSON != nil || account.apns != nil else {
            throw LicenseeAccountError.invalid("Give 'fcm_service_account', 'apns' or both.")
        }
        try validate(account)
        let fcm = try account.fcmServiceAccountJSON.map { json in
            (identity: Self.fcmIdentity(json), sealed: try secrets.seal(json, for: licenseeID))
        }
        let apnsSealed = try account.apns.map { try secrets.seal($0.privateKeyPEM, for: licenseeID) }
        let now = now()
        try await database.withTransaction(admin.scope, logger: logger) { connection in
            try await connection.query(
                """
                INSERT INTO licensee_push_accounts (
                    licensee_id, fcm_project_id, fcm_client_email, fcm_service_account_sealed,
                    apns_key_id, apns_team_id, apns_bundle_id, apns_private_key_sealed, updated_at)
                VALUES (
                    \(licenseeID), \(fcm?.identity.projectID), \(fcm?.identity.clientEmail), \(fcm?.sealed),
                    \(account.apns?.keyID), \(account.apns?.teamID), \(account.apns?.bundleID), \(apnsSealed), \(now))
                ON CONFLICT (licensee_id) DO UPDATE SET
                    fcm_project_id = excluded.fcm_project_id, fcm_client_email = excluded.fcm_client_email,
                    fcm_service_account_sealed = excluded.fcm_service_account_sealed, apns_key_id = excluded.apns_key_id,
                    apns_team_id = excluded.apns_team_id, apns_bundle_id = excluded.apns_bundle_id,
                    apns_private_key_sealed = excluded.apns_private_key_sealed, updated_at = excluded.updated_at
                """, logger: logger)
            try await AuditLog.record(
                "push_account.set", by: admin, target: ("licensee", licenseeID.uuidString),
                details: ["fcm": fcm == nil ? "no" : "yes", "apns": account.apns == nil ? "no" : "yes"], on: connection, logger: logger)
        }
        return Summary(
            fcmProjectID: fcm?.identity.projectID, fcmClientEmail: fcm?.identity.clientEmail, apnsKeyID: account.apns?.keyID,
            apnsTeamID: account.apns?.teamID, apnsBundleID: account.apns?.bundleID, updatedAt: now)
    }

    /// The admin's Licensee's own credentials, without their keys.
    public func summary(by admin: Principal, logger: Logger) async throws -> Summary {
        guard let licenseeID = admin.adminsOwnLicensee else { throw IdentityError.forbidden }
        let row = try await database.withTransaction(admin.scope, logger: logger) { connection in
            try await connection.query(
                """
                SELECT fcm_project_id, fcm_client_email, apns_key_id, apns_team_id, apns_bundle_id, updated_at
                FROM licensee_push_accounts WHERE licensee_id = \(licenseeID)
                """, logger: logger
            ).collect().first?.decode((String?, String?, String?, String?, String?, Date).self)
        }
        guard let (projectID, clientEmail, keyID, teamID, bundleID, updatedAt) = row else { throw LicenseeAccountError.notFound }
        return Summary(
            fcmProjectID: projectID, fcmClientEmail: clientEmail, apnsKeyID: keyID, apnsTeamID: teamID, apnsBundleID: bundleID,
            updatedAt: updatedAt)
    }

    /// Forgets the admin's Licensee's own credentials: its pushes use the platform's from then on.
    public func remove(by admin: Principal, logger: Logger) async throws {
        try await LicenseeOwnAccountRow.remove(
            from: "licensee_push_accounts", audited: "push_account.removed", by: admin, database: database, logger: logger)
    }

    /// The project and the account's e-mail from a key file the validator accepted.
    static func fcmIdentity(_ json: String) -> (projectID: String, clientEmail: String) {
        let fields = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] ?? [:]
        return (fields["project_id"] as? String ?? "", fields["client_email"] as? String ?? "")
    }
}
