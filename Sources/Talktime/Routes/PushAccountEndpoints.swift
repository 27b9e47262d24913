import Foundation
import Hummingbird
import TalktimeCore

/// A Licensee admin's own push credentials (its app's Firebase project, its APNs key): set them (the keys are
/// sealed before they are stored), read them back without the keys, or remove them to use the platform's again.
struct PushAccountEndpoints: Sendable {
    let accounts: LicenseePushAccounts

    /// The body of `PUT /v1/admin/push-account`.
    struct SetAccount: Decodable {
        struct APNs: Decodable {
            let keyId: String
            let teamId: String
            let bundleId: String
            let privateKey: String
        }

        /// The service account's key file, as Firebase exports it.
        let fcmServiceAccount: String?
        let apns: APNs?
    }

    /// What an admin reads back: who and where, never a key.
    struct Account: Encodable {
        struct FCM: Encodable {
            let projectId: String
            let clientEmail: String
        }

        struct APNs: Encodable {
            let keyId: String
            let teamId: String
            let bundleId: String
        }

        let fcm: FCM?
        let apns: APNs?
        let updatedAt: Date

        init(_ summary: LicenseePushAccounts.Summary) {
            fcm = summary.fcmProjectID.map { FCM(projectId: $0, clientEmail: summary.fcmClientEmail ?? "") }
            apns = summary.apnsKeyID.map { APNs(keyId: $0, teamId: summary.apnsTeamID ?? "", bundleId: summary.apnsBundleID ?? "") }
            updatedAt = summary.updatedAt
        }
    }

    var endpoints: [Endpoint] {
        [
            Endpoint(.put, "/v1/admin/push-account", access: .roles(.licenseeAdmin)) { request, context, principal in
                let body = try await request.decodeJSON(as: SetAccount.self, context: context)
                let account = PushAccount(
                    fcmServiceAccountJSON: body.fcmServiceAccount,
                    apns: body.apns.map { .init(keyID: $0.keyId, teamID: $0.teamId, bundleID: $0.bundleId, privateKeyPEM: $0.privateKey) })
                return try .json(Account(try await accounts.set(account, by: principal, logger: context.logger)))
            },
            Endpoint(.get, "/v1/admin/push-account", access: .roles(.licenseeAdmin)) { _, context, principal in
                try .json(Account(try await accounts.summary(by: principal, logger: context.logger)))
            },
            Endpoint(.delete, "/v1/admin/push-account", access: .roles(.licenseeAdmin)) { _, context, principal in
                try await accounts.remove(by: principal, logger: context.logger)
                return Response(status: .noContent)
            },
        ]
    }
}
