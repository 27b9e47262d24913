import Foundation

/// FCM's error body (google.rpc.Status): `{"error": {"code", "message", "status", "details": [...]}}`, with an
/// `FcmError` detail carrying FCM's own `errorCode` and, for a malformed request, a `BadRequest` detail naming the
/// fields at fault.
struct FCMErrorAnswer: Decodable {
    struct Status: Decodable {
        let code: Int?
        let message: String?
        let status: String?
        let details: [Detail]?
    }

    struct Detail: Decodable {
        let type: String?
        let errorCode: String?
        let fieldViolations: [FieldViolation]?

        enum CodingKeys: String, CodingKey {
            case type = "@type"
            case errorCode
            case fieldViolations
        }
    }

    struct FieldViolation: Decodable {
        let field: String?
        let description: String?
    }

    let error: Status

    /// FCM's `errorCode` (`UNREGISTERED`, `QUOTA_EXCEEDED`, ...), if a detail gives one.
    var errorCode: String? { error.details?.lazy.compactMap(\.errorCode).first }

    /// The token is unknown to FCM: the app was uninstalled or the token expired.
    var isUnregistered: Bool { errorCode == "UNREGISTERED" }

    /// The request was refused because of the registration token itself, not the rest of the message.
    // INVALID_ARGUMENT also covers a bad data key, TTL or payload size; only a violation on `message.token`, or
    // the message FCM writes for a malformed token, says the device is gone.
    var isInvalidToken: Bool {
        guard error.status == "INVALID_ARGUMENT" || errorCode == "INVALID_ARGUMENT" else { return false }
        let violations = error.details?.flatMap { $0.fieldViolations ?? [] } ?? []
        if !violations.isEmpty { return violations.allSatisfy { $0.field == "message.token" } }
        return error.message == "The registration token is not a valid FCM registration token"
    }

    /// `status` and `errorCode`, for a reason or a log line: fixed words, never FCM's free text.
    var summary: String {
        let codes = [error.status, errorCode].compactMap { $0 }.filter(FCMErrorAnswer.isCode)
        return (codes.count == 2 && codes[0] == codes[1] ? [codes[0]] : codes).joined(separator: " ")
    }

    static func isCode(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 64 && text.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber || $0 == "_") }
    }
}
