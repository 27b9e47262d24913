import Hummingbird

/// Refuses request bodies over the configured size with 413, whether announced by `Content-Length` or
/// streamed without one, before any handler reads them.
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let maxBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBytes {
            throw HTTPError(.contentTooLarge)
        }
        var request = request
        // Collecting here (bounded) means handlers never hold more than maxBytes of a body in memory.
        _ = try await request.collectBody(upTo: maxBytes)
        return try await next(request, context)
    }
}
