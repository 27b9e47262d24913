import Foundation
import TalktimeSecurity

extension AppConfiguration {
    /// The key that seals third-party secrets kept in the database (Licensees' own LiveKit secrets):
    /// `SECRETS_KEY` (base64 of 32 bytes) under the id `SECRETS_KEY_ID`, plus `SECRETS_RETIRED_KEYS`
    /// (`kid:base64,...`) that still open what they sealed during a rotation. Unset: Licensees cannot store
    /// accounts of their own.
    static func secretBox(_ values: ConfigurationValues) throws(ConfigurationError) -> SecretBox? {
        let keyID = try values.optional("secrets.key.id", default: "primary") { SecretBox.isValidKeyID($0) ? $0 : nil }
        let retired = try values.optional("secrets.retired.keys", default: [:]) { ConfigurationValues.parseKeyList($0) }
        return try values.optional("secrets.key") { text -> SecretBox? in
            guard let key = Data(base64Encoded: text), key.count == 32 else { return nil }
            return try SecretBox(currentKeyID: keyID, keys: retired.merging([keyID: Array(key)]) { _, current in current })
        }
    }
}

extension ConfigurationValues {
    /// `kid:base64,kid:base64`: keys by id (the public halves of retired signing keys, retired secrets keys).
    static func parseKeyList(_ text: String) -> [String: [UInt8]]? {
        var keys: [String: [UInt8]] = [:]
        for entry in text.split(separator: ",") {
            let parts = entry.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, let bytes = Data(base64Encoded: parts[1]) else { return nil }
            keys[parts[0]] = Array(bytes)
        }
        return keys
    }
}
