import Crypto
import Foundation

/// A random bearer secret that names its tenant: `<prefix>_<base64url(licensee id ‖ 32 random bytes)>`.
///
/// Refresh tokens, invitations, password resets and API keys are all of this kind. Carrying the Licensee lets
/// the service look the token up inside that tenant's row level security scope instead of across all tenants;
/// only the SHA-256 of the whole token is stored, so a database leak yields no usable token. Platform tokens
/// carry the all-zero id.
public struct OpaqueToken: Sendable, Hashable {
    public let prefix: String
    /// nil for tokens of platform admins, who belong to no Licensee.
    public let licenseeID: UUID?
    /// The secret as the client holds it; shown once and never stored.
    public let value: String

    /// 256 bits of randomness beside the Licensee id.
    static let secretByteCount = 32

    public static func generate(prefix: String, licenseeID: UUID?) -> OpaqueToken {
        var bytes = Self.bytes(of: licenseeID)
        var generator = SystemRandomNumberGenerator()
        bytes += (0..<secretByteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return OpaqueToken(prefix: prefix, licenseeID: licenseeID, value: prefix + "_" + Base64URL.encode(bytes))
    }

    /// Reads a token presented by a client; nil when it is not one of `prefix`'s shape.
    public init?(parsing value: String, prefix: String) {
        guard value.utf8.count < 200, value.hasPrefix(prefix + "_"),
            let bytes = Base64URL.decode(String(value.dropFirst(prefix.count + 1))),
            bytes.count == 16 + Self.secretByteCount
        else { return nil }
        let idBytes = Array(bytes[0..<16])
        self.prefix = prefix
        self.licenseeID = idBytes.allSatisfy { $0 == 0 } ? nil : UUID(uuid: Self.tuple(idBytes))
        self.value = value
    }

    private init(prefix: String, licenseeID: UUID?, value: String) {
        self.prefix = prefix
        self.licenseeID = licenseeID
        self.value = value
    }

    /// What the database stores and looks tokens up by.
    public var hash: Data { Data(SHA256.hash(data: Data(value.utf8))) }

    static func bytes(of id: UUID?) -> [UInt8] {
        guard let id else { return Array(repeating: 0, count: 16) }
        return withUnsafeBytes(of: id.uuid) { Array($0) }
    }

    static func tuple(_ bytes: [UInt8]) -> uuid_t {
        (
            bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
            bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
        )
    }
}
