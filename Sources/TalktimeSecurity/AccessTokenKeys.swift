import Crypto
import Foundation

/// The Ed25519 key that signs access tokens, and every key that still verifies them while keys rotate.
///
/// To rotate: deploy the new key as the signing key with the old one's public half in the verification keys;
/// once the old tokens have expired (15 minutes), drop it.
public struct AccessTokenKeys: Sendable {
    public let signingKeyID: String
    let signingKey: Curve25519.Signing.PrivateKey
    /// Key id to public key, the signing key's own included.
    let verificationKeys: [String: Curve25519.Signing.PublicKey]

    public struct InvalidKey: Error, CustomStringConvertible {
        public let description: String
    }

    /// - Parameters:
    ///   - signingKeySeed: the 32-byte Ed25519 private key (its "seed").
    ///   - additionalVerificationKeys: key id to 32-byte Ed25519 public key.
    public init(signingKeyID: String, signingKeySeed: [UInt8], additionalVerificationKeys: [String: [UInt8]] = [:]) throws(InvalidKey) {
        guard !signingKeyID.isEmpty, signingKeyID.utf8.count <= 64 else { throw InvalidKey(description: "the key id must be 1 to 64 characters") }
        guard signingKeySeed.count == 32, let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: signingKeySeed) else {
            throw InvalidKey(description: "the signing key must be 32 bytes of Ed25519 private key, base64-encoded")
        }
        var keys = [signingKeyID: key.publicKey]
        for (id, bytes) in additionalVerificationKeys {
            guard bytes.count == 32, let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: bytes) else {
                throw InvalidKey(description: "verification key '\(id)' must be 32 bytes of Ed25519 public key, base64-encoded")
            }
            guard keys[id] == nil else { throw InvalidKey(description: "key id '\(id)' is used twice") }
            keys[id] = publicKey
        }
        self.signingKeyID = signingKeyID
        self.signingKey = key
        self.verificationKeys = keys
    }

    /// A fresh key pair, for the demo and tests.
    public static func generate(keyID: String = "generated") -> AccessTokenKeys {
        try! AccessTokenKeys(signingKeyID: keyID, signingKeySeed: Array(Curve25519.Signing.PrivateKey().rawRepresentation))
    }

    /// An Ed25519 signature by the signing key; tests use it to forge tokens with well-signed bad claims.
    public func signature(for bytes: some DataProtocol) throws -> Data {
        try signingKey.signature(for: bytes)
    }

    /// The 32-byte public half of the signing key.
    public var signingPublicKey: [UInt8] { Array(signingKey.publicKey.rawRepresentation) }

    /// The 32-byte seed, for writing a generated key into configuration.
    public var signingKeySeed: [UInt8] { Array(signingKey.rawRepresentation) }

    /// The public halves as a JSON Web Key Set (RFC 7517, OKP keys of RFC 8037), served at `/.well-known/jwks.json`.
    public var jwks: JSONWebKeySet {
        JSONWebKeySet(
            keys: verificationKeys.sorted { $0.key < $1.key }.map { id, key in
                JSONWebKeySet.Key(kty: "OKP", crv: "Ed25519", x: Base64URL.encode(key.rawRepresentation), kid: id, alg: "EdDSA", use: "sig")
            }
        )
    }
}

/// `{"keys": [...]}` as served for verifiers of our access tokens.
public struct JSONWebKeySet: Codable, Sendable, Equatable {
    public struct Key: Codable, Sendable, Equatable {
        public let kty: String
        public let crv: String
        public let x: String
        public let kid: String
        public let alg: String
        public let use: String
    }

    public let keys: [Key]
}
