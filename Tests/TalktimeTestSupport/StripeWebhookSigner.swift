import Crypto
import Foundation

/// Signs webhook bodies as Stripe does, independently of Talktime's verifier: `t=<unix>,v1=<hex>...`, each
/// `v1` the hex HMAC-SHA256 of `"<t>.<body>"` keyed with a whole `whsec_...` secret.
public enum StripeWebhookSigner {
    /// `t=<timestamp>`, then one `v1` per secret in order, then a `v0` (which verifiers must ignore) if asked.
    public static func header(for body: [UInt8], secrets: [String], timestamp: Date = Date(), v0: Bool = false) -> String {
        let seconds = Int(timestamp.timeIntervalSince1970)
        var signed = Array("\(seconds).".utf8)
        signed.append(contentsOf: body)
        var parts = ["t=\(seconds)"]
        for secret in secrets {
            let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data(secret.utf8)))
            parts.append("v1=" + mac.map { String(format: "%02x", $0) }.joined())
        }
        if v0 { parts.append("v0=" + String(repeating: "ab", count: 32)) }
        return parts.joined(separator: ",")
    }
}
