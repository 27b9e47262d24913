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
        let data = try JSONEncoder().encode(body)
        var fields = headers
        fields[.contentType] = Self.mediaType
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
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

    static func internalError() -> Problem {
        Problem(status: .internalServerError, detail: "The server failed to answer this request. Quote the request id when reporting it.")
    }
}
