import AsyncHTTPClient
import Foundation
import Logging
import TalktimeCore

/// Where and how pushes go, whoever's credentials they carry: the services' base URLs, the limits, and the one
/// token endpoint a Licensee's FCM key file may name.
public struct PushServiceEndpoints: Sendable {
    public var fcmBaseURL = "https://fcm.googleapis.com"
    /// Google's OAuth token endpoint. A Licensee's key file must name this one: the service posts a signed
    /// assertion to it, so an admin must not be able to point it at another address.
    public var fcmTokenURI = "https://oauth2.googleapis.com/token"
    public var apnsBaseURL = "https://api.push.apple.com"
    public var requestTimeout: Duration = .seconds(10)
    public var maxAttempts = 3

    public init() {}

    /// The FCM configuration of a Licensee's key file, checked as `validate` checks it.
    func fcm(_ serviceAccountJSON: String) throws(LicenseeAccountError) -> FCMConfiguration {
        let configuration: FCMConfiguration
        do {
            configuration = try FCMConfiguration(
                serviceAccountJSON: serviceAccountJSON, baseURL: fcmBaseURL, requestTimeout: requestTimeout, maxAttempts: maxAttempts)
        } catch {
            throw .invalid(error.description)
        }
        guard configuration.tokenURI == fcmTokenURI else {
            throw .invalid("The FCM service account's token_uri must be \(fcmTokenURI), as in the key files Firebase exports.")
        }
        return configuration
    }

    /// The APNs configuration of a Licensee's key.
    func apns(_ account: PushAccount.APNs) throws(LicenseeAccountError) -> APNsConfiguration {
        do {
            return try APNsConfiguration(
                keyID: account.keyID, teamID: account.teamID, privateKeyPEM: account.privateKeyPEM, bundleID: account.bundleID,
                baseURL: apnsBaseURL, requestTimeout: requestTimeout, maxAttempts: maxAttempts)
        } catch {
            throw .invalid(error.description)
        }
    }

    /// Refuses credentials the push clients could not use: what `LicenseePushAccounts` checks before storing.
    public func validate(_ account: PushAccount) throws {
        if let json = account.fcmServiceAccountJSON {
            guard json.utf8.count <= 16_384 else { throw LicenseeAccountError.invalid("The FCM service account is larger than a key file.") }
            _ = try fcm(json)
        }
        if let apns = account.apns {
            guard apns.privateKeyPEM.utf8.count <= 4_096 else {
                throw LicenseeAccountError.invalid("The APNs private key is larger than a .p8 file.")
            }
            _ = try self.apns(apns)
        }
    }
}

/// Sends each Licensee's pushes with its own credentials when it has them, else with the platform's.
///
/// A Licensee's notifiers are built once and kept until its credentials change, so its FCM access token and
/// APNs provider token are reused across pushes as the platform's are.
public actor LicenseePushNotifiers: PushNotifierDirectory {
    let accounts: LicenseePushAccounts
    let platform: any PushNotifier
    let endpoints: PushServiceEndpoints
    let httpClient: HTTPClient
    private var built: [UUID: (updatedAt: Date, notifier: PushDispatcher)] = [:]

    /// - Parameters:
    ///   - platform: sends for Licensees without credentials of their own.
    ///   - httpClient: owned and shut down by the caller.
    public init(accounts: LicenseePushAccounts, platform: any PushNotifier, endpoints: PushServiceEndpoints, httpClient: HTTPClient) {
        self.accounts = accounts
        self.platform = platform
        self.endpoints = endpoints
        self.httpClient = httpClient
    }

    public func notifier(forLicensee licenseeID: UUID, logger: Logger) async throws -> any PushNotifier {
        guard let (account, updatedAt) = try await accounts.account(forLicensee: licenseeID, logger: logger) else {
            built[licenseeID] = nil
            return platform
        }
        if let kept = built[licenseeID], kept.updatedAt == updatedAt { return kept.notifier }
        // Checked when stored; a platform whose endpoints changed since then refuses them here, and the push fails.
        let notifier = PushDispatcher(
            fcm: try account.fcmServiceAccountJSON.map { json throws(LicenseeAccountError) in try endpoints.fcm(json) },
            apns: try account.apns.map { apns throws(LicenseeAccountError) in try endpoints.apns(apns) }, httpClient: httpClient)
        built[licenseeID] = (updatedAt, notifier)
        return notifier
    }
}
