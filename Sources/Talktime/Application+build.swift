import Hummingbird
import Logging
import Metrics
import PostgresNIO
import Prometheus
import TalktimeCore

/// Assembles the service: the one place where the database, the domain and the HTTP edge are connected.
/// `serve` runs what this returns, and the tests build the very same thing.
func buildApplication(configuration: AppConfiguration, logger: Logger) throws -> some ApplicationProtocol {
    let registry = PrometheusCollectorRegistry()
    let metricsFactory = PrometheusMetricsFactory(registry: registry)
    let client = PostgresClient(
        configuration: configuration.databaseURL.clientConfiguration(maximumConnections: configuration.databaseMaxConnections),
        backgroundLogger: logger
    )
    let database = Database(
        client: client,
        poolMetrics: DatabasePoolMetrics(maximumConnections: configuration.databaseMaxConnections, factory: metricsFactory)
    )
    let migrator = Migrator(client: client, migrations: try MigrationDirectory.load(configuration.migrationsDirectory), logger: logger)

    let endpoints = HealthEndpoints(database: database, migrator: migrator, metrics: registry, readinessTimeout: .seconds(3)).endpoints
    let router = makeRouter(
        endpoints: endpoints,
        settings: RouterSettings(maxBodyBytes: configuration.httpMaxBodyBytes, corsAllowedOrigins: configuration.corsAllowedOrigins),
        metricsFactory: metricsFactory
    )
    var app = Application(
        router: router,
        configuration: .init(address: .hostname(configuration.httpHost, port: configuration.httpPort), serverName: "talktime"),
        services: [client],
        logger: logger
    )
    // Refuse to serve a schema this build does not know; the error says which command fixes it.
    app.beforeServerStarts {
        try await migrator.requireCurrent()
    }
    return app
}

/// The HTTP settings the middleware stack needs.
struct RouterSettings: Sendable {
    var maxBodyBytes: Int
    var corsAllowedOrigins: [String]
}

/// The router with Talktime's middleware stack, outermost first, around the given endpoints.
func makeRouter(endpoints: [Endpoint], settings: RouterSettings, metricsFactory: any MetricsFactory) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: RequestIDMiddleware())
    router.add(middleware: RequestMetricsMiddleware(factory: metricsFactory))
    router.add(middleware: CORSAllowListMiddleware(allowedOrigins: Set(settings.corsAllowedOrigins)))
    router.add(middleware: ProblemMiddleware(endpoints: EndpointTable(endpoints)))
    router.add(middleware: BodyLimitMiddleware(maxBytes: settings.maxBodyBytes))
    for endpoint in endpoints {
        router.on(RouterPath(endpoint.path), method: endpoint.method, use: endpoint.handler)
    }
    return router
}
