import Hummingbird

/// One route: method, path and handler. Routes are declared as data first, so that one list registers the
/// router, answers 405 for a known path with the wrong method, and is checked against `openapi.yaml`.
struct Endpoint: Sendable {
    typealias Handler = @Sendable (Request, AppRequestContext) async throws -> Response

    let method: HTTPRequest.Method
    /// Hummingbird path syntax: `/v1/calls/{id}`.
    let path: String
    let handler: Handler

    init(_ method: HTTPRequest.Method, _ path: String, handler: @escaping Handler) {
        self.method = method
        self.path = path
        self.handler = handler
    }
}

/// Which methods each declared path answers.
struct EndpointTable: Sendable {
    private let routes: [(method: HTTPRequest.Method, segments: [Substring])]

    init(_ endpoints: [Endpoint]) {
        routes = endpoints.map { ($0.method, $0.path.split(separator: "/")) }
    }

    /// The methods declared for the path that `path` matches, in declaration order; empty for an unknown path.
    func allowedMethods(forPath path: String) -> [HTTPRequest.Method] {
        let requested = path.split(separator: "/")
        var methods: [HTTPRequest.Method] = []
        for route in routes where Self.matches(route.segments, requested) && !methods.contains(route.method) {
            methods.append(route.method)
        }
        return methods
    }

    private static func matches(_ pattern: [Substring], _ requested: [Substring]) -> Bool {
        guard pattern.count == requested.count else { return false }
        return zip(pattern, requested).allSatisfy { pattern, segment in
            pattern.hasPrefix("{") || pattern.hasPrefix(":") || pattern == segment
        }
    }
}
