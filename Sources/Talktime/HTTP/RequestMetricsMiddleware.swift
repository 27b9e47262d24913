import Hummingbird
import Metrics

/// Counts requests and times them by route, method and status, and writes one access log line each.
///
/// The route is the matched pattern (`/v1/calls/{id}`), never the raw path, so ids don't multiply the
/// series and no personal data reaches the metrics or the log.
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let factory: any MetricsFactory

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - start
        let route = context.endpointPath ?? "unmatched"
        let dimensions = [("route", route), ("method", request.method.rawValue), ("status", String(response.status.code))]
        Counter(label: "http_requests_total", dimensions: dimensions, factory: factory).increment()
        Metrics.Timer(label: "http_request_duration_seconds", dimensions: dimensions, factory: factory)
            .recordNanoseconds(elapsed.nanoseconds)
        context.logger.info(
            "request",
            metadata: [
                "http.method": .string(request.method.rawValue),
                "http.route": .string(route),
                "http.status": .stringConvertible(response.status.code),
                "duration_ms": .stringConvertible(Double(elapsed.nanoseconds) / 1e6),
            ]
        )
        return response
    }
}
