import Foundation
import TalktimeCore

/// How Talktime reaches LiveKit's server API. The account (URL, key, secret) comes with each request, since
/// each Licensee may bring its own; this is what every account shares.
public struct LiveKitConfiguration: Sendable {
    public var requestTimeout: Duration
    /// Attempts in all for one request, for 5xx answers and network errors.
    public var maxAttempts: Int
    /// How long the short admin token sent with each server API request lives.
    public var adminTokenLifetime: Duration

    public init(requestTimeout: Duration = .seconds(5), maxAttempts: Int = 3, adminTokenLifetime: Duration = .seconds(60)) {
        self.requestTimeout = requestTimeout
        self.maxAttempts = max(1, maxAttempts)
        self.adminTokenLifetime = adminTokenLifetime
    }

    /// The server API's base URL of `account`: its own, or the clients' URL with `ws` made `http`.
    func apiBaseURL(for account: CallRoomCredentials) -> String {
        if let apiBaseURL = account.apiBaseURL { return apiBaseURL.trimmingSuffix("/") }
        let base = account.serverURL.trimmingSuffix("/")
        if base.hasPrefix("wss://") { return "https://" + base.dropFirst("wss://".count) }
        if base.hasPrefix("ws://") { return "http://" + base.dropFirst("ws://".count) }
        return base
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
