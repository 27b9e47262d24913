// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "Talktime",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "talktime", targets: ["Talktime"]),
        .executable(name: "talktime-bench", targets: ["TalktimeBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // Security-sensitive primitives with their own tests: access tokens (JWT) and opaque bearer tokens.
        .target(
            name: "TalktimeSecurity",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ]
        ),
        // One system call Swift cannot make itself (sched_setattr, for the password hashers' threads).
        .target(name: "CTalktimeScheduling"),
        // The domain: identity, tenancy, ledger, billing, calls. No HTTP types in here.
        .target(
            name: "TalktimeCore",
            dependencies: [
                "CTalktimeScheduling",
                "TalktimeSecurity",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Clients of outside services (Stripe, LiveKit, FCM, APNs), implementing the domain's protocols over AsyncHTTPClient.
        .target(
            name: "TalktimeIntegrations",
            dependencies: [
                "TalktimeCore",
                "TalktimeSecurity",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The executable: command line, assembly and the HTTP edge.
        .executableTarget(
            name: "Talktime",
            dependencies: [
                "TalktimeCore",
                "TalktimeIntegrations",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Measurements the benchmarks in bench/ need from our own implementations.
        .executableTarget(
            name: "TalktimeBench",
            dependencies: [
                "TalktimeCore",
                "TalktimeSecurity",
                // The fixtures and the fake LiveKit the benchmarks share with the tests.
                "TalktimeTestSupport",
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "bench/Sources/TalktimeBench"
        ),
        // Shared by both test targets: a real PostgreSQL per test, copied from a migrated template.
        .target(
            name: "TalktimeTestSupport",
            dependencies: [
                "TalktimeCore",
                "TalktimeSecurity",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/TalktimeTestSupport"
        ),
        .testTarget(
            name: "TalktimeSecurityTests",
            dependencies: ["TalktimeSecurity", "TalktimeTestSupport"]
        ),
        .testTarget(
            name: "TalktimeCoreTests",
            dependencies: [
                "TalktimeCore", "TalktimeTestSupport", .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        .testTarget(
            name: "TalktimeIntegrationsTests",
            dependencies: [
                "TalktimeIntegrations",
                "TalktimeTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .testTarget(
            name: "TalktimeTests",
            dependencies: [
                "Talktime",
                "TalktimeCore",
                "TalktimeIntegrations",
                "TalktimeTestSupport",
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ]
)
