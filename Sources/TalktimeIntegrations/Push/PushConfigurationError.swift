/// Why a push configuration cannot be used. Raised once, at start, so a bad deployment stops with a message
/// naming what to fix; no message ever quotes a private key.
public enum PushConfigurationError: Error, Equatable, CustomStringConvertible {
    /// The FCM service-account JSON is not JSON, or not an object.
    case serviceAccountNotJSON
    /// The service-account JSON lacks a field, or it is empty or of the wrong type.
    case serviceAccountFieldMissing(String)
    /// The service account is not of type `service_account` (an OAuth client or a user credential, say).
    case serviceAccountWrongType(String)
    /// A private key is not a PEM key of the kind the service needs (RSA of at least 2048 bits for FCM, P-256 for
    /// APNs). `service` is `FCM` or `APNs`.
    case privateKeyUnreadable(service: String)
    /// An APNs identifier (key ID, team ID, bundle ID) is malformed; `field` names it and `expected` says how.
    case invalidIdentifier(field: String, expected: String)
    /// A URL (base URL, `token_uri`) is not an absolute http(s) URL.
    case invalidURL(field: String)
    /// A timeout that is not positive, or fewer than one attempt.
    case invalidLimit(field: String)

    public var description: String {
        switch self {
        case .serviceAccountNotJSON:
            "The FCM service account is not a JSON object: give the service-account key file Firebase exports."
        case .serviceAccountFieldMissing(let field):
            "The FCM service-account JSON has no usable \"\(field)\": give the key file exactly as Firebase exports it."
        case .serviceAccountWrongType(let type):
            "The FCM credential is of type \"\(type)\", not \"service_account\": export a service-account key."
        case .privateKeyUnreadable(let service):
            service == "FCM"
                ? "The FCM service account's private_key is not a PEM RSA private key of at least 2048 bits."
                : "The APNs private key is not a PEM P-256 key (the .p8 file Apple issues, BEGIN PRIVATE KEY)."
        case .invalidIdentifier(let field, let expected):
            "The APNs \(field) is malformed: \(expected)."
        case .invalidURL(let field):
            "The \(field) is not an absolute http(s) URL."
        case .invalidLimit(let field):
            "The \(field) must be positive."
        }
    }
}
