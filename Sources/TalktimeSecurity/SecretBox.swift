import Crypto
import Foundation

/// Encrypts third-party secrets kept in the database (a Licensee's LiveKit API secret, say) with AES-256-GCM
/// under a key given to the service, so that a copy of the database alone reveals none of them.
///
/// A sealed secret reads `<key id>:<base64 of nonce, ciphertext and tag>`: the key id says which key opens it,
/// so keys can be rotated (new secrets are sealed with the current key; retired keys still open old ones).
/// Each secret is bound to a context, such as the row it belongs to, as GCM's associated data: a sealed value
/// copied to another row, or another purpose, does not open.
public struct SecretBox: Sendable {
    public enum Failure: Error, Equatable {
        /// The key is not 32 bytes, or its id is empty, too long or not made of letters, digits, `-` and `_`.
        case invalidKey
        /// Not a sealed secret, sealed under a key this box does not hold, altered, or sealed for another context.
        case cannotOpen
    }

    public let currentKeyID: String
    private let keys: [String: SymmetricKey]

    /// - Parameters:
    ///   - currentKeyID: the id of the key that seals; `keys` must hold it.
    ///   - keys: every key by id, 32 bytes each: the current one and those being retired.
    public init(currentKeyID: String, keys: [String: [UInt8]]) throws(Failure) {
        guard keys[currentKeyID] != nil else { throw .invalidKey }
        for (id, key) in keys where !Self.isValidKeyID(id) || key.count != 32 { throw .invalidKey }
        self.currentKeyID = currentKeyID
        self.keys = keys.mapValues { SymmetricKey(data: $0) }
    }

    /// Letters, digits, `-` and `_`, 1 to 64 of them: a key id must never contain the `:` that ends it.
    public static func isValidKeyID(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count)
            && id.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
            }
    }

    /// Seals `secret` for `context` under the current key, with a fresh random nonce.
    public func seal(_ secret: String, context: String) throws -> String {
        let key = keys[currentKeyID]!
        let box = try AES.GCM.seal(Data(secret.utf8), using: key, authenticating: Data(context.utf8))
        guard let combined = box.combined else { throw Failure.cannotOpen }
        return currentKeyID + ":" + combined.base64EncodedString()
    }

    /// Whether `sealed` was sealed under the current key (else it needs a retired key to open).
    public func isSealedWithCurrentKey(_ sealed: String) -> Bool {
        sealed.hasPrefix(currentKeyID + ":")
    }

    /// Opens what `seal` made for the same `context`.
    public func open(_ sealed: String, context: String) throws(Failure) -> String {
        guard let colon = sealed.firstIndex(of: ":"), let key = keys[String(sealed[..<colon])],
            let combined = Data(base64Encoded: String(sealed[sealed.index(after: colon)...])),
            let box = try? AES.GCM.SealedBox(combined: combined),
            let plaintext = try? AES.GCM.open(box, using: key, authenticating: Data(context.utf8)),
            let secret = String(data: plaintext, encoding: .utf8)
        else { throw .cannotOpen }
        return secret
    }
}
