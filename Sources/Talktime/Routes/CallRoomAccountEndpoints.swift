import Foundation
import Hummingbird
import TalktimeCore

/// A Licensee admin's own LiveKit project: set it (the secret is sealed before it is stored), read it back
/// without the secret, or remove it to use the platform's again.
struct CallRoomAccountEndpoints: Sendable {
    let accounts: LicenseeCallRoomAccounts

    /// The body of `PUT /v1/admin/livekit-account`.
    struct SetAccount: Decodable {
        let url: String
        let apiKey: String
        let apiSecret: String
    }

    /// What an admin reads back: never the secret.
    struct Account: Encodable {
        let url: String
        let apiKey: String
        let updatedAt: Date

        init(_ summary: LicenseeCallRoomAccounts.Summary) {
            url = summary.serverURL
            apiKey = summary.apiKey
            updatedAt = summary.updatedAt
        }
    }

    var endpoints: [Endpoint] {
        [
            Endpoint(.put, "/v1/admin/livekit-account", access: .roles(.licenseeAdmin)) { request, context, principal in
                let body = try await request.decodeJSON(as: SetAccount.self, context: context)
                let account = CallRoomCredentials(serverURL: body.url, apiKey: body.apiKey, apiSecret: body.apiSecret)
                return try .json(Account(try await accounts.set(account, by: principal, logger: context.logger)))
            },
            Endpoint(.get, "/v1/admin/livekit-account", access: .roles(.licenseeAdmin)) { _, context, principal in
                try .json(Account(try await accounts.summary(by: principal, logger: context.logger)))
            },
            Endpoint(.delete, "/v1/admin/livekit-account", access: .roles(.licenseeAdmin)) { _, context, principal in
                try await accounts.remove(by: principal, logger: context.logger)
                return Response(status: .noContent)
            },
        ]
    }
}
