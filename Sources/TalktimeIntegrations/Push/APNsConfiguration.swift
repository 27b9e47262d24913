import Foundation
import JWTKit

/// How Talktime reaches Apple Push Notification service for VoIP pushes: the token-signing key (.p8) and its
/// identifiers, the app, where APNs is (production, sandbox, or a loopback fake in tests), and the limits.
///
/// Everything is checked here, the key included, so a bad deployment fails at start; no description of this
/// value shows the key.
public struct APNsConfiguration: Sendable {
    /// The signing key's 10-character identifier, from the developer account.
    public let keyID: String
    /// The 10-character team identifier the key belongs to.
    public let teamID: String
    /// The app's bundle identifier, without `.voip` (the topic appends it).
    public let bundleID: String
    /// APNs' base URL without a trailing slash: `https://api.push.apple.com`, or
    /// `https://api.sandbox.push.apple.com` for development builds of the app.
    public let baseURL: String
    /// The limit for one send attempt.
    public let requestTimeout: Duration
    /// Attempts per send, the first included, for 429, 5xx and network errors.
    public let maxAttempts: Int
    let privateKey: ES256PrivateKey

    /// The `apns-topic` of a VoIP push.
    public var voipTopic: String { bundleID + ".voip" }

    /// - Parameters:
    ///   - keyID: the key's identifier (10 letters or digits).
    ///   - teamID: the team's identifier (10 letters or digits).
    ///   - privateKeyPEM: the .p8 file's contents; a key whose line breaks were flattened to `\n` is accepted.
    ///   - bundleID: the app's bundle identifier, without `.voip`.
    ///   - baseURL: APNs' API.
    ///   - requestTimeout: for each attempt.
    ///   - maxAttempts: per send, at least 1.
    /// - Throws: `PushConfigurationError`, naming the field at fault and never quoting the key.
    public init(
        keyID: String, teamID: String, privateKeyPEM: String, bundleID: String, baseURL: String = "https://api.push.apple.com",
        requestTimeout: Duration = .seconds(10), maxAttempts: Int = 3
    ) throws(PushConfigurationError) {
        guard Self.isAppleIdentifier(keyID) else { throw .invalidIdentifier(field: "key ID", expected: "10 letters or digits") }
        guard Self.isAppleIdentifier(teamID) else { throw .invalidIdentifier(field: "team ID", expected: "10 letters or digits") }
        guard !bundleID.isEmpty, bundleID.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") }) else {
            throw .invalidIdentifier(field: "bundle ID", expected: "letters, digits, dots and hyphens, as in com.example.talktime")
        }
        guard !bundleID.hasSuffix(".voip") else {
            throw .invalidIdentifier(field: "bundle ID", expected: "the app's own bundle ID; \".voip\" is appended for VoIP pushes")
        }
        // Keys pasted into an environment variable often arrive with their line breaks written as `\n`.
        let pem = privateKeyPEM.contains("\n") ? privateKeyPEM : privateKeyPEM.replacingOccurrences(of: "\\n", with: "\n")
        guard let key = try? ES256PrivateKey(pem: pem) else { throw .privateKeyUnreadable(service: "APNs") }
        self.keyID = keyID
        self.teamID = teamID
        self.bundleID = bundleID
        self.privateKey = key
        self.baseURL = try PushURL.validated(baseURL, field: "APNs base URL")
        guard requestTimeout > .zero else { throw .invalidLimit(field: "APNs request timeout") }
        guard maxAttempts >= 1 else { throw .invalidLimit(field: "APNs attempt count") }
        self.requestTimeout = requestTimeout
        self.maxAttempts = maxAttempts
    }

    private static func isAppleIdentifier(_ text: String) -> Bool {
        text.count == 10 && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
    }
}

extension APNsConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    // Whatever prints this value (a log line, `dump`, a debugger) sees who and where, never the key.
    public var description: String {
        "APNsConfiguration(keyID: \(keyID), teamID: \(teamID), bundleID: \(bundleID), baseURL: \(baseURL))"
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["keyID": keyID, "teamID": teamID, "bundleID": bundleID, "baseURL": baseURL])
    }
}
