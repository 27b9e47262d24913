import Foundation
import JWTKit

/// How Talktime reaches Firebase Cloud Messaging (HTTP v1): the service account it signs in as, where FCM is (a
/// loopback fake in tests), and how long and how often a send may try.
///
/// Built from the service-account key file Firebase exports. Everything is checked here, the private key
/// included, so a bad deployment fails at start; no description of this value shows the key.
public struct FCMConfiguration: Sendable {
    /// The Firebase project messages are sent through (`project_id`).
    public let projectID: String
    /// The service account's identity (`client_email`), the issuer of its OAuth assertions.
    public let clientEmail: String
    /// Where the OAuth assertion is exchanged for an access token (`token_uri`).
    public let tokenURI: String
    /// FCM's base URL, without a trailing slash.
    public let baseURL: String
    /// The limit for one HTTP exchange (an OAuth exchange or one send attempt).
    public let requestTimeout: Duration
    /// Attempts per send, the first included, for 429, 5xx and network errors.
    public let maxAttempts: Int
    /// `private_key_id`, sent as the assertion's `kid` as Google's own libraries do.
    let privateKeyID: String?
    let privateKey: Insecure.RSA.PrivateKey

    /// - Parameters:
    ///   - serviceAccountJSON: the key file's contents: `client_email`, `private_key` (PEM RSA), `token_uri`,
    ///     `project_id`.
    ///   - baseURL: FCM's API, `https://fcm.googleapis.com` unless a test points it at a fake.
    ///   - requestTimeout: for each HTTP exchange.
    ///   - maxAttempts: per send, at least 1.
    /// - Throws: `PushConfigurationError`, naming the field at fault and never quoting the key.
    public init(
        serviceAccountJSON: String, baseURL: String = "https://fcm.googleapis.com", requestTimeout: Duration = .seconds(10),
        maxAttempts: Int = 3
    ) throws(PushConfigurationError) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(serviceAccountJSON.utf8)), let fields = object as? [String: Any]
        else { throw .serviceAccountNotJSON }
        func field(_ name: String) throws(PushConfigurationError) -> String {
            guard let value = fields[name] as? String, !value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw .serviceAccountFieldMissing(name)
            }
            return value
        }
        if let type = fields["type"] as? String, type != "service_account" { throw .serviceAccountWrongType(type) }
        let projectID = try field("project_id")
        // The project id becomes a path segment: anything but Google's id alphabet would change the URL.
        guard projectID.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ":" || $0 == ".") }) else {
            throw .serviceAccountFieldMissing("project_id")
        }
        self.projectID = projectID
        clientEmail = try field("client_email")
        tokenURI = try PushURL.validated(try field("token_uri"), field: "FCM service account's token_uri")
        let pem = try field("private_key")
        privateKeyID = fields["private_key_id"] as? String
        // JWTKit refuses RSA keys under 2048 bits, as Google does.
        guard let key = try? Insecure.RSA.PrivateKey(pem: pem) else { throw .privateKeyUnreadable(service: "FCM") }
        privateKey = key
        self.baseURL = try PushURL.validated(baseURL, field: "FCM base URL")
        guard requestTimeout > .zero else { throw .invalidLimit(field: "FCM request timeout") }
        guard maxAttempts >= 1 else { throw .invalidLimit(field: "FCM attempt count") }
        self.requestTimeout = requestTimeout
        self.maxAttempts = maxAttempts
    }
}

extension FCMConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    // Whatever prints this value (a log line, `dump`, a debugger) sees who and where, never the key.
    public var description: String {
        "FCMConfiguration(projectID: \(projectID), clientEmail: \(clientEmail), tokenURI: \(tokenURI), baseURL: \(baseURL))"
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["projectID": projectID, "clientEmail": clientEmail, "tokenURI": tokenURI, "baseURL": baseURL])
    }
}
