import Foundation
import Hummingbird

/// An error a client can act on, answered as `application/problem+json` (RFC 9457).
///
/// `type` is stable and machine-readable; `detail` is for people and never carries internals (SQL, stack
/// traces, secrets). Every body also names the request id so a support person can find the logs.
struct Problem: Error, HTTPResponseError {
    let status: HTTPResponse.Status
    /// A URI naming the kind of problem; `about:blank` when the status code says it all.
    let type: String
    let title: String
    let detail: String?
    var headers: HTTPFields = [:]

    init(status: HTTPResponse.Status, type: String = "about:blank", title: String? = nil, detail: String? = nil, headers: HTTPFields = [:]) {
        self.status = status
        self.type = type
        self.title = title ?? status.reasonPhrase
        self.detail = detail
        self.headers = headers
    }

    static let mediaType = "application/problem+json"

    struct Body: Codable, Equatable {
        let type: String
        let title: String
        let status: Int
        let detail: String?
        let requestID: String?

        enum CodingKeys: String, CodingKey {
            case type, title, status, detail
            case requestID = "request_id"
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let requestID = context.logger[metadataKey: RequestIDMiddleware.metadataKey].map { "\($0)" }
        let body = Body(type: type, title: title, status: Int(status.code), detail: detail, requestID: requestID)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = try encoder.encode(body)
        var fields = headers
        fields[.contentType] = Self.mediaType
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// The stable `type` URIs of Talktime's own problems; clients branch on these, never on `detail`.
enum ProblemType {
    static let rateLimited = "urn:talktime:problem:rate-limited"
    static let unauthenticated = "urn:talktime:problem:unauthenticated"
    static let forbidden = "urn:talktime:problem:forbidden"
    static let invalidCredentials = "urn:talktime:problem:invalid-credentials"
    static let invalidToken = "urn:talktime:problem:invalid-token"
    static let passwordRejected = "urn:talktime:problem:password-rejected"
    static let emailTaken = "urn:talktime:problem:email-taken"
    static let unknownLicensee = "urn:talktime:problem:unknown-licensee"
    static let licenceInactive = "urn:talktime:problem:licence-inactive"
    static let validation = "urn:talktime:problem:validation"
    static let busy = "urn:talktime:problem:busy"
    static let idempotencyKeyRequired = "urn:talktime:problem:idempotency-key-required"
    static let idempotencyKeyReused = "urn:talktime:problem:idempotency-key-reused"
    static let idempotencyKeyInUse = "urn:talktime:problem:idempotency-key-in-use"
    static let insufficientFunds = "urn:talktime:problem:insufficient-funds"
    static let amountOutOfBounds = "urn:talktime:problem:amount-out-of-bounds"
    static let paymentRejected = "urn:talktime:problem:payment-rejected"
    static let paymentUnavailable = "urn:talktime:problem:payment-unavailable"
    static let invalidWebhook = "urn:talktime:problem:invalid-webhook"
    static let advisorNotAvailable = "urn:talktime:problem:advisor-not-available"
    static let alreadyInCall = "urn:talktime:problem:already-in-call"
    static let concurrentCallLimit = "urn:talktime:problem:concurrent-call-limit"
    static let callState = "urn:talktime:problem:call-state"
    static let callsUnavailable = "urn:talktime:problem:calls-unavailable"
    static let secretsUnavailable = "urn:talktime:problem:secrets-unavailable"
    static let keyTaken = "urn:talktime:problem:key-taken"
}

extension Problem {
    static func notFound() -> Problem {
        Problem(status: .notFound, detail: "No resource exists at this path.")
    }

    static func methodNotAllowed(allowed: [HTTPRequest.Method]) -> Problem {
        Problem(
            status: .methodNotAllowed,
            detail: "This path answers \(allowed.map(\.rawValue).joined(separator: ", ")) only.",
            headers: [.allow: allowed.map(\.rawValue).joined(separator: ", ")]
        )
    }

    static func unsupportedMediaType() -> Problem {
        Problem(status: .unsupportedMediaType, detail: "Send the body as application/json.")
    }

    static func badRequest(_ detail: String) -> Problem {
        Problem(status: .badRequest, detail: detail)
    }

    static func unauthenticated(_ detail: String = "Send a valid access token or API key as `Authorization: Bearer ...`.") -> Problem {
        Problem(status: .unauthorized, type: ProblemType.unauthenticated, detail: detail, headers: [.wwwAuthenticate: "Bearer"])
    }

    static func forbidden() -> Problem {
        Problem(status: .forbidden, type: ProblemType.forbidden, detail: "Your role may not do this.")
    }

    static func validation(_ detail: String) -> Problem {
        Problem(status: .unprocessableContent, type: ProblemType.validation, title: "Invalid request", detail: detail)
    }

    static func internalError() -> Problem {
        Problem(status: .internalServerError, detail: "The server failed to answer this request. Quote the request id when reporting it.")
    }
}
