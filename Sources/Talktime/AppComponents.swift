import Foundation
import Hummingbird
import Logging
import PostgresNIO
import Prometheus
import TalktimeCore
import TalktimeIntegrations
import TalktimeSecurity

/// Everything the service is made of, built once from its configuration: the one place where the database,
/// the domain services and the HTTP edge are connected. Nothing here connects yet: the database client
/// starts when the application's services run.
struct AppComponents: Sendable {
    let metricsRegistry: PrometheusCollectorRegistry
    let metricsFactory: PrometheusMetricsFactory
    let client: PostgresClient
    let database: Database
    let migrator: Migrator
    let hasher: PasswordHasher
    let authentication: AuthenticationService
    let sessionChanges: SessionChangeListener
    let registration: RegistrationService
    let passwords: PasswordService
    let accounts: AccountService
    let apiKeys: APIKeyService
    let edge: EdgeServices
    let licensees: LicenseeResolver
    let wallets: WalletService
    let topUps: TopUpService
    let paymentEvents: PaymentEventProcessor
    let idempotency: IdempotencyGuard
    let verifyPaymentWebhook: PaymentWebhookEndpoints.VerifyAndDecode
    let clock: any WallClock
    let calls: CallService
    let callAlerts: CallAlertService
    let billing: BillingEngine
    let retention: RetentionService
    /// Opened once the schema is known to be current: the background services that query start after it.
    let schemaChecked = StartSignal()
    let advisors: AdvisorDirectory
    let devices: DeviceRegistry
    let roomEvents: CallRoomEventProcessor
    let roomAccounts: LicenseeCallRoomAccounts
    let pushAccounts: LicenseePushAccounts
    let verifyRoomWebhook: CallWebhookEndpoints.VerifyAndDecode

    /// - Parameter clock: the clock of every expiry and every call's timing; tests move it.
    init(configuration: AppConfiguration, logger: Logger, clock: any WallClock = SystemWallClock()) async throws {
        let now: @Sendable () -> Date = { clock.now() }
        guard let keys = configuration.identity.accessTokenKeys else {
            throw ConfigurationError(variable: "JWT_SIGNING_KEY", problem: "is not set: serve needs an Ed25519 key (see the README)")
        }
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

        let identity = configuration.identity
        hasher = PasswordHasher(cost: configuration.bcryptCost, threads: identity.bcryptConcurrency, queueLimit: identity.bcryptQueueLimit)
        let tokens = await AccessTokens(
            keys: keys,
            settings: AccessTokens.Settings(issuer: identity.issuer, audience: identity.audience, lifetime: identity.accessTokenLifetime),
            now: now
        )
        let sessions = SessionValidityCache(lifetime: identity.sessionCacheLifetime, metrics: metricsFactory)
        sessionChanges = SessionChangeListener(
            configuration: try configuration.databaseURL.connectionConfiguration(), cache: sessions, logger: logger)
        authentication = AuthenticationService(
            database: database, hasher: hasher, tokens: tokens, settings: identity.settings, sessions: sessions, now: now)
        registration = RegistrationService(
            database: database, hasher: hasher, authentication: authentication, settings: identity.settings, now: now)
        passwords = PasswordService(database: database, hasher: hasher, authentication: authentication, settings: identity.settings, now: now)
        accounts = AccountService(database: database, sessions: sessions)
        apiKeys = APIKeyService(database: database, now: now)
        licensees = LicenseeResolver(directory: LicenseeDirectory(database: database))

        let ledger = Ledger(database: database)
        wallets = WalletService(database: database, ledger: ledger)
        topUps = TopUpService(database: database, provider: Self.paymentProvider(configuration.stripe))
        paymentEvents = PaymentEventProcessor(database: database, ledger: ledger)
        idempotency = IdempotencyGuard(store: IdempotencyStore(database: database, now: now))
        verifyPaymentWebhook = Self.paymentWebhookVerifier(configuration.stripe, now: now)

        self.clock = clock
        let rooms = Self.callRoomProvider(configuration.calls)
        let roomCredentials = LicenseeCallRoomAccounts(
            database: database, secrets: configuration.secrets, platform: configuration.calls.room,
            allowedHosts: configuration.calls.licenseeHosts, now: now)
        roomAccounts = roomCredentials
        pushAccounts = LicenseePushAccounts(
            database: database, secrets: configuration.secrets, validate: configuration.push.endpoints.validate, now: now)
        callAlerts = CallAlertService(
            database: database, notifiers: Self.pushNotifiers(configuration.push, accounts: pushAccounts),
            ringTimeout: configuration.calls.settings.ringTimeout, metrics: PushMetrics(factory: metricsFactory), logger: logger)
        calls = CallService(
            database: database, rooms: rooms, credentials: roomCredentials, alerts: callAlerts, clock: clock,
            settings: configuration.calls.settings)
        billing = BillingEngine(calls: calls, metrics: BillingMetrics(factory: metricsFactory), logger: logger, startsAfter: schemaChecked)
        retention = RetentionService(database: database, clock: clock, logger: logger, startsAfter: schemaChecked)
        advisors = AdvisorDirectory(database: database)
        devices = DeviceRegistry(database: database)
        roomEvents = CallRoomEventProcessor(calls: calls)
        verifyRoomWebhook = Self.roomWebhookVerifier(credentials: roomCredentials, now: now)

        let store: any RateLimitStore =
            switch identity.rateLimitStore {
            case .memory: InMemoryRateLimitStore(now: now)
            case .postgres: PostgresRateLimitStore(database: database)
            }
        let authentication = self.authentication
        edge = EdgeServices(
            authenticate: { bearer, logger in try await authentication.authenticate(bearer: bearer, logger: logger) },
            rateLimiter: RateLimiter(store: store),
            clientAddresses: ClientAddressResolver(trustedProxies: identity.trustedProxies)
        )
    }

    /// Every route the service answers; `openapi.yaml` must describe exactly these.
    var endpoints: [Endpoint] {
        let webhookMetrics = WebhookMetrics(factory: metricsFactory)
        let groups: [[Endpoint]] = [
            HealthEndpoints(database: database, migrator: migrator, metrics: metricsRegistry, readinessTimeout: .seconds(3)).endpoints,
            AuthEndpoints(
                authentication: authentication, registration: registration, passwords: passwords, licensees: licensees,
                rateLimiter: edge.rateLimiter
            ).endpoints,
            AccountEndpoints(accounts: accounts, registration: registration, apiKeys: apiKeys).endpoints,
            WalletEndpoints(wallets: wallets, topUps: topUps, idempotency: idempotency).endpoints,
            PaymentWebhookEndpoints(verifyAndDecode: verifyPaymentWebhook, processor: paymentEvents, metrics: webhookMetrics).endpoints,
            AdvisorEndpoints(advisors: advisors, approvals: AdvisorApprovals(database: database), devices: devices).endpoints,
            CallEndpoints(calls: calls, idempotency: idempotency).endpoints,
            CallWebhookEndpoints(verifyAndDecode: verifyRoomWebhook, processor: roomEvents, metrics: webhookMetrics).endpoints,
            CallRoomAccountEndpoints(accounts: roomAccounts).endpoints,
            PushAccountEndpoints(accounts: pushAccounts).endpoints,
        ]
        return groups.flatMap { $0 }
    }
}
