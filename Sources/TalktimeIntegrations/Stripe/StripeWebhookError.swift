/// Why a webhook was not accepted. Descriptions name the check that failed, never a secret or a signature.
public enum StripeWebhookError: Error, Equatable, CustomStringConvertible {
    /// No `Stripe-Signature` header, or an empty one.
    case missingHeader
    /// A part without `=`, no `t`, a `t` that is not a positive integer, or two of them.
    case malformedHeader
    /// No usable signing secret: every webhook is refused until one is configured.
    case noSecretConfigured
    /// The signed timestamp is further from now than the tolerance (a replay, or a badly wrong clock).
    case timestampOutsideTolerance
    /// No well-formed `v1` signature, or none that any configured secret produces for this body and timestamp.
    case noMatchingSignature

    public var description: String {
        switch self {
        case .missingHeader: "no Stripe-Signature header"
        case .malformedHeader: "the Stripe-Signature header is malformed"
        case .noSecretConfigured: "no webhook secret is configured"
        case .timestampOutsideTolerance: "the signature's timestamp is outside the tolerance"
        case .noMatchingSignature: "no v1 signature matches"
        }
    }
}
