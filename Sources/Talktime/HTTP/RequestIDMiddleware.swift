import Foundation
import Hummingbird

/// Gives every request an id: the client's `X-Request-Id` when it is a sane token, a new one otherwise.
/// The id is echoed in the response and attached to every log line of the request.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    static let metadataKey = "request_id"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let requestID = request.headers[.requestID].flatMap(Self.acceptable) ?? UUID().uuidString.lowercased()
        context.requestID = requestID
        context.logger[metadataKey: Self.metadataKey] = .string(requestID)
        var response = try await next(request, context)
        response.headers[.requestID] = requestID
        return response
    }

    /// Up to 128 characters of letters, digits, `-`, `_`, `.` and `:`; anything else could forge log lines.
    static func acceptable(_ value: String) -> String? {
        guard (1...128).contains(value.utf8.count),
            value.utf8.allSatisfy({
                $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: ":")
            })
        else { return nil }
        return value
    }
}

extension UInt8 {
    fileprivate var isASCIIAlphanumeric: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }
}
