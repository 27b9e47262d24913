import Foundation
import TalktimeCore
import TalktimeTestSupport
import Testing

@testable import TalktimeIntegrations

/// Configurations refuse what cannot work, at start, in words that name the fix and never quote a key; and
/// printing one never shows its key.
@Suite struct PushConfigurationTests {
    @Test func aServiceAccountIsReadFromFirebasesKeyFile() async throws {
        try await FakeFCM.run { fake in
            let configuration = try FCMConfiguration(serviceAccountJSON: fake.serviceAccountJSON, requestTimeout: .seconds(3), maxAttempts: 4)
            #expect(configuration.projectID == fake.projectID)
            #expect(configuration.clientEmail == fake.clientEmail)
            #expect(configuration.tokenURI == fake.tokenURI)
            #expect(configuration.baseURL == "https://fcm.googleapis.com")
            #expect(configuration.maxAttempts == 4)
        }
    }

    @Test func malformedServiceAccountsAreClearErrors() async throws {
        try await FakeFCM.run { fake in
            let cases: [(String, PushConfigurationError)] = [
                ("", .serviceAccountNotJSON),
                ("not json", .serviceAccountNotJSON),
                ("[1, 2]", .serviceAccountNotJSON),
                (fake.serviceAccountJSON(overriding: ["client_email": nil]), .serviceAccountFieldMissing("client_email")),
                (fake.serviceAccountJSON(overriding: ["private_key": nil]), .serviceAccountFieldMissing("private_key")),
                (fake.serviceAccountJSON(overriding: ["token_uri": nil]), .serviceAccountFieldMissing("token_uri")),
                (fake.serviceAccountJSON(overriding: ["project_id": " "]), .serviceAccountFieldMissing("project_id")),
                (fake.serviceAccountJSON(overriding: ["project_id": "a/../b"]), .serviceAccountFieldMissing("project_id")),
                (fake.serviceAccountJSON(overriding: ["type": "authorized_user"]), .serviceAccountWrongType("authorized_user")),
                (
                    fake.serviceAccountJSON(overriding: ["token_uri": "oauth2.googleapis.com/token"]),
                    .invalidURL(field: "FCM service account's token_uri")
                ),
            ]
            for (json, expected) in cases {
                #expect(throws: expected) { _ = try FCMConfiguration(serviceAccountJSON: json) }
            }
        }
    }

    @Test func anUnreadableOrWeakPrivateKeyIsAClearErrorThatDoesNotQuoteIt() async throws {
        try await FakeFCM.run { fake in
            let truncated = String(fake.privateKeyPEM.prefix(300))
            let apnsKey = try await FakeAPNs.run { $0.privateKeyPEM }
            for pem in [truncated, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", apnsKey] {
                do {
                    _ = try FCMConfiguration(serviceAccountJSON: fake.serviceAccountJSON(overriding: ["private_key": pem]))
                    Issue.record("an unusable key was accepted")
                } catch {
                    #expect(error as? PushConfigurationError == .privateKeyUnreadable(service: "FCM"))
                    #expect(!"\(error)".contains("BEGIN"))
                }
            }
        }
    }

    @Test func limitsAndURLsAreChecked() async throws {
        try await FakeFCM.run { fake in
            #expect(throws: PushConfigurationError.invalidLimit(field: "FCM request timeout")) {
                _ = try FCMConfiguration(serviceAccountJSON: fake.serviceAccountJSON, requestTimeout: .zero)
            }
            #expect(throws: PushConfigurationError.invalidLimit(field: "FCM attempt count")) {
                _ = try FCMConfiguration(serviceAccountJSON: fake.serviceAccountJSON, maxAttempts: 0)
            }
            #expect(throws: PushConfigurationError.invalidURL(field: "FCM base URL")) {
                _ = try FCMConfiguration(serviceAccountJSON: fake.serviceAccountJSON, baseURL: "fcm.googleapis.com")
            }
            let trailingSlash = try FCMConfiguration(serviceAccountJSON: fake.serviceAccountJSON, baseURL: fake.baseURL + "/")
            #expect(trailingSlash.baseURL == fake.baseURL)
        }
    }

    @Test func printingAConfigurationNeverShowsTheKey() async throws {
        let fcmPEM = try await FakeFCM.run { fake in
            let configuration = try FCMConfiguration(serviceAccountJSON: fake.serviceAccountJSON)
            var dumped = ""
            dump(configuration, to: &dumped)
            for text in ["\(configuration)", String(reflecting: configuration), dumped] {
                #expect(text.contains(fake.clientEmail))
                #expect(
                    PushTestSupport.leaks(
                        of: PushTestSupport.secrets(deviceTokens: [], credentials: [], privateKeyPEMs: [fake.privateKeyPEM]), in: [text]
                    ).isEmpty)
            }
            return fake.privateKeyPEM
        }
        #expect(!fcmPEM.isEmpty)
        try await FakeAPNs.run { fake in
            let configuration = try PushTestSupport.apnsConfiguration(fake)
            var dumped = ""
            dump(configuration, to: &dumped)
            for text in ["\(configuration)", String(reflecting: configuration), dumped] {
                #expect(text.contains(fake.keyID))
                #expect(!text.contains(String(fake.privateKeyPEM.split(separator: "\n")[1])))
            }
        }
    }

    @Test func anAPNsConfigurationChecksItsIdentifiersAndKey() async throws {
        try await FakeAPNs.run { fake in
            func make(keyID: String? = nil, teamID: String? = nil, pem: String? = nil, bundleID: String? = nil) throws(PushConfigurationError) {
                _ = try APNsConfiguration(
                    keyID: keyID ?? fake.keyID, teamID: teamID ?? fake.teamID, privateKeyPEM: pem ?? fake.privateKeyPEM,
                    bundleID: bundleID ?? fake.bundleID)
            }
            #expect(throws: PushConfigurationError.invalidIdentifier(field: "key ID", expected: "10 letters or digits")) { try make(keyID: "ABC") }
            #expect(throws: PushConfigurationError.invalidIdentifier(field: "team ID", expected: "10 letters or digits")) {
                try make(teamID: "ABCDEFGHI ")
            }
            #expect(throws: PushConfigurationError.self) { try make(bundleID: "") }
            #expect(throws: PushConfigurationError.self) { try make(bundleID: fake.bundleID + ".voip") }
            #expect(throws: PushConfigurationError.privateKeyUnreadable(service: "APNs")) { try make(pem: "not a key") }
            let rsa = try FakeFCM.otherPrivateKeyPEM()
            #expect(throws: PushConfigurationError.privateKeyUnreadable(service: "APNs")) { try make(pem: rsa) }
            // A key whose line breaks were flattened into `\n`, as in many environment files, still reads.
            try make(pem: fake.privateKeyPEM.replacingOccurrences(of: "\n", with: "\\n"))
            let configuration = try PushTestSupport.apnsConfiguration(fake)
            #expect(configuration.voipTopic == fake.bundleID + ".voip")
            #expect(configuration.baseURL == fake.baseURL)
        }
    }

    @Test func errorDescriptionsNameTheFix() {
        #expect(PushConfigurationError.serviceAccountFieldMissing("private_key").description.contains("private_key"))
        #expect(PushConfigurationError.privateKeyUnreadable(service: "APNs").description.contains(".p8"))
        #expect(PushConfigurationError.serviceAccountWrongType("authorized_user").description.contains("service-account key"))
    }
}
