import Hummingbird
import Logging
import Metrics
import PostgresNIO
import Prometheus
import TalktimeCore

/// Assembles the service: the one place where the database, the domain and the HTTP edge are connected.
/// `serve` runs what this returns, and the tests build the very same thing.
func buildApplication(configuration: AppConfiguration, logger: Logger) throws -> some ApplicationProtocol {
    let components = try AppComponents(configuration: configuration, logger: logger)
    let router = makeRouter(
        endpoints: components.endpoints,
        settings: RouterSettings(maxBodyBytes: configuration.httpMaxBodyBytes, corsAllowedOrigins: configuration.corsAllowedOrigins),
        metricsFactory: components.metricsFactory
    )
    var app = Application(
        router: router,
        configuration: .init(address: .hostname(configuration.httpHost, port: configuration.httpPort), serverName: "talktime"),
        services: [components.client],
        logger: logger
    )
    // Refuse to serve a schema this build does not know; the error says which command fixes it.
    app.beforeServerStarts {
        try await components.migrator.requireCurrent()
    }
    return app
}

/// Everything the service is made of, built once from its configuration. Nothing here connects yet: the
/// database client starts when the application's services run.
struct AppComponents: Sendable {
    let metricsRegistry: PrometheusCollectorRegistry
    let metricsFactory: PrometheusMetricsFactory
    let client: PostgresClient
    let database: Database
    let migrator: Migrator

    init(configuration: AppConfiguration, logger: Logger) throws {
        metricsRegistry = PrometheusCollectorRegistry()
        metricsFactory = PrometheusMetricsFactory(registry: metricsRegistry)
        client = PostgresClient(
            configuration: configuration.databaseURL.clientConfiguration(maximumConnections: configuration.databaseMaxConnections),
            backgroundLogger: logger
        )
        database = Database(
            client: client,
            poolMetrics: DatabasePoolMetrics(maximumConnections: configuration.databaseMaxConnections, factory: metricsFactory)
        )
        migrator = Migrator(client: client, migrations: try MigrationDirectory.load(configuration.migrationsDirectory), logger: logger)
    }

    /// Every route the service answers; `openapi.yaml` must describe exactly these.
    var endpoints: [Endpoint] {
        HealthEndpoints(database: database, migrator: migrator, metrics: metricsRegistry, readinessTimeout: .seconds(3)).endpoints
    }
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
