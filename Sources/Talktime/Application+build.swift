import Hummingbird
import Logging
import Metrics
import PostgresNIO
import Prometheus
import TalktimeCore

/// Assembles the service: the one place where the database, the domain and the HTTP edge are connected.
/// `serve` runs what this returns, and the tests build the very same thing.
func buildApplication(configuration: AppConfiguration, logger: Logger, clock: any WallClock = SystemWallClock()) async throws
    -> some ApplicationProtocol
{
    let components = try await AppComponents(configuration: configuration, logger: logger, clock: clock)
    let router = makeRouter(
        endpoints: components.endpoints,
        edge: components.edge,
        settings: RouterSettings(maxBodyBytes: configuration.httpMaxBodyBytes, corsAllowedOrigins: configuration.corsAllowedOrigins),
        metricsFactory: components.metricsFactory
    )
    var app = Application(
        router: router,
        // A client that stalls can hold neither a connection nor a graceful shutdown for ever.
        server: .http1(configuration: .init(idleTimeout: TimeAmount(configuration.httpIdleTimeout))),
        configuration: .init(address: .hostname(configuration.httpHost, port: configuration.httpPort), serverName: "talktime"),
        // The database client first: the others need it, and shut down before it (in reverse order).
        services: [components.client, components.sessionChanges, components.callAlerts, components.billing, components.retention],
        logger: logger
    )
    // Refuse to serve a schema this build does not know; the error says which command fixes it.
    app.beforeServerStarts {
        try await components.migrator.requireCurrent()
        components.schemaChecked.open()
    }
    return app
}

/// The HTTP settings the middleware stack needs.
struct RouterSettings: Sendable {
    var maxBodyBytes: Int
    var corsAllowedOrigins: [String]
}

/// The router with Talktime's middleware stack, outermost first, around the given endpoints.
func makeRouter(endpoints: [Endpoint], edge: EdgeServices, settings: RouterSettings, metricsFactory: any MetricsFactory) -> Router<AppRequestContext>
{
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: RequestIDMiddleware())
    router.add(middleware: RequestMetricsMiddleware(factory: metricsFactory))
    router.add(middleware: CORSAllowListMiddleware(allowedOrigins: Set(settings.corsAllowedOrigins)))
    router.add(middleware: ProblemMiddleware(endpoints: EndpointTable(endpoints)))
    router.add(middleware: BodyLimitMiddleware(maxBytes: settings.maxBodyBytes))
    for endpoint in endpoints {
        router.on(RouterPath(endpoint.path), method: endpoint.method) { request, context in
            try await edge.respond(to: endpoint, request: request, context: context)
        }
    }
    return router
}
