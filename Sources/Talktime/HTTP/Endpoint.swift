import Hummingbird
import TalktimeCore

/// One route: method, path, who may call it, and its handler. Routes are declared as data first, so that one
/// list registers the router, answers 405 for a known path with the wrong method, decides authorization,
/// drives the role-by-route test, and is checked against `openapi.yaml`.
struct Endpoint: Sendable {
    typealias Handler = @Sendable (Request, AppRequestContext, Principal?) async throws -> Response

    /// Who may call a route.
    enum Access: Sendable, Equatable {
        case anonymous
        /// A signed-in account of one of `roles`, or an API key holding `apiKeyScope` (when it is set).
        case authenticated(roles: Set<UserRole>, apiKeyScope: APIKeyScope?)

        static func roles(_ roles: UserRole..., apiKeyScope: APIKeyScope? = nil) -> Access {
            .authenticated(roles: Set(roles), apiKeyScope: apiKeyScope)
        }

        static let anyAccount = Access.authenticated(roles: Set(UserRole.allCases), apiKeyScope: nil)
    }

    let method: HTTPRequest.Method
    /// Hummingbird path syntax: `/v1/calls/{id}`.
    let path: String
    let access: Access
    let handler: Handler

    /// An endpoint anyone may call.
    init(_ method: HTTPRequest.Method, _ path: String, handler: @escaping @Sendable (Request, AppRequestContext) async throws -> Response) {
        self.method = method
        self.path = path
        self.access = .anonymous
        self.handler = { request, context, _ in try await handler(request, context) }
    }

    /// An endpoint for signed-in callers: the handler gets the principal, never nil.
    init(
        _ method: HTTPRequest.Method, _ path: String, access: Access,
        handler: @escaping @Sendable (Request, AppRequestContext, Principal) async throws -> Response
    ) {
        precondition(access != .anonymous, "use the anonymous initialiser")
        self.method = method
        self.path = path
        self.access = access
        self.handler = { request, context, principal in
            // The router's authorization step guarantees a principal for every non-anonymous endpoint.
            try await handler(request, context, principal!)
        }
    }

    /// `POST /v1/auth/login`: how the rate limit table names the route.
    var route: String { "\(method.rawValue) \(path)" }

    /// Whether `principal` may call this endpoint.
    func permits(_ principal: Principal) -> Bool {
        guard case .authenticated(let roles, let apiKeyScope) = access else { return true }
        if case .apiKey(let scopes) = principal.credential {
            return apiKeyScope.map(scopes.contains) ?? false
        }
        return roles.contains(principal.role)
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
