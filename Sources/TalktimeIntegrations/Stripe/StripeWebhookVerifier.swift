import Crypto
import Foundation

/// Verifies `Stripe-Signature` over a webhook's raw body, as Stripe documents and its libraries do.
///
/// The header is `t=<unix seconds>,v1=<hex>[,v1=<hex>...]`; the signed payload is `"<t>.<raw body>"`; each
/// signature is HMAC-SHA256 keyed with the whole `whsec_...` secret. The webhook is genuine when any `v1`
/// matches any configured secret (two during a rotation) and the timestamp lies within the tolerance of now.
/// `v0` and unknown schemes are ignored. Comparisons take constant time.
public struct StripeWebhookVerifier: Sendable {
    let keys: [SymmetricKey]
    let tolerance: Duration

    /// - Parameters:
    ///   - secrets: the endpoint's signing secrets, whole (`whsec_...`); blank ones are dropped.
    ///   - tolerance: how far the signed timestamp may lie from `now`, either way.
    public init(secrets: [String], tolerance: Duration = .seconds(300)) {
        // An empty key is a key anyone can sign with; Stripe's libraries refuse a blank secret too.
        keys = secrets.filter { !$0.allSatisfy(\.isWhitespace) }.map { SymmetricKey(data: Data($0.utf8)) }
        self.tolerance = tolerance
    }

    /// Accepts the webhook or throws why not. `payload` must be the body's bytes as received, before any parsing.
    public func verify(payload: [UInt8], signatureHeader: String?, now: Date) throws(StripeWebhookError) {
        guard !keys.isEmpty else { throw .noSecretConfigured }
        guard let header = signatureHeader, !header.isEmpty else { throw .missingHeader }
        var timestamp: Int64?
        var signatures: [[UInt8]] = []
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { throw .malformedHeader }
            let scheme = pair[0].trimmingCharacters(in: .whitespaces)
            let value = pair[1].trimmingCharacters(in: .whitespaces)
            switch scheme {
            case "t":
                guard timestamp == nil, let seconds = Int64(value), seconds > 0 else { throw .malformedHeader }
                timestamp = seconds
            case "v1":
                // A v1 that is not 32 bytes of hex can match nothing; skip it rather than reject the others.
                if let bytes = Self.hexBytes(value), bytes.count == 32 { signatures.append(bytes) }
            default:
                continue
            }
        }
        guard let timestamp else { throw .malformedHeader }
        guard !signatures.isEmpty else { throw .noMatchingSignature }
        let age = now.timeIntervalSince1970 - TimeInterval(timestamp)
        let allowed = Double(tolerance.components.seconds) + Double(tolerance.components.attoseconds) / 1e18
        guard abs(age) <= allowed else { throw .timestampOutsideTolerance }

        var signed = Array("\(timestamp).".utf8)
        signed.append(contentsOf: payload)
        for key in keys {
            for signature in signatures where HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signed, using: key) {
                return
            }
        }
        throw .noMatchingSignature
    }

    /// Lower-case hex only, as Stripe writes it and its libraries compare it.
    static func hexBytes(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
