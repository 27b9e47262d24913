import Foundation
import Logging
import PostgresNIO
import TalktimeCore
import TalktimeSecurity
import TalktimeTestSupport

/// Issue 5's request benchmark: `POST /v1/calls` at a steady rate, each request a new caller ringing a new
/// Advisor (one live call per caller and per Advisor), through a fake LiveKit on loopback.
enum CallStartBench {
    static let logger = LedgerBench.logger
    static let password = "bench password 1"

    /// A fake LiveKit until the process is killed; prints its client URL, API key and secret on one line.
    static func serveFakeLiveKit() async throws {
        try await FakeLiveKit.run { fake in
            // Written straight to the file descriptor: the script waits for this line while the process lives on.
            FileHandle.standardOutput.write(Data("\(fake.credentials.serverURL) \(fake.apiKey) \(fake.apiSecret)\n".utf8))
            try await Task.sleep(for: .seconds(365 * 86_400))
        }
    }

    /// `pairs` funded End Users and as many available Advisors in the Licensee `slug`, with no call limit; then
    /// logs each End User in (in process, past the HTTP rate limits) and writes `token advisor_id` lines.
    static func setUp(url: String, slug: String, pairs: Int, tokensFile: String) async throws {
        guard let seed = ProcessInfo.processInfo.environment["JWT_SIGNING_KEY"].flatMap({ Data(base64Encoded: $0) }) else {
            throw BenchError("JWT_SIGNING_KEY must hold the server's base64 Ed25519 seed")
        }
        try await LedgerBench.withDatabase(url: url, connections: 4) { database in
            let hasher = PasswordHasher(cost: 4, threads: 2, queueLimit: 1000)
            let hash = try await hasher.hash(password)
            let licenseeID = try await database.withTransaction(.platform, logger: logger) { connection in
                let id = try await connection.query(
                    """
                    INSERT INTO licensees (slug, name, app_name, currency, licence_status, max_concurrent_calls)
                    VALUES (\(slug), \(slug), \(slug), 'EUR', 'active', 1000000) RETURNING id
                    """, logger: logger
                ).collect().first!.decode(UUID.self)
                for role in ["end_user", "advisor"] {
                    try await connection.query(
                        """
                        INSERT INTO users (licensee_id, role, email, password_hash, display_name)
                        SELECT \(id), \(role), \(role) || n || '@' || \(slug) || '.example', \(hash), \(role) || n
                        FROM generate_series(1, \(pairs)) AS n
                        """, logger: logger)
                }
                try await connection.query(
                    """
                    INSERT INTO advisor_profiles (user_id, licensee_id, rate_per_minute_minor, approval_status, presence)
                    SELECT id, \(id), 100, 'approved', 'available' FROM users WHERE licensee_id = \(id) AND role = 'advisor'
                    """, logger: logger)
                return id
            }
            let callers = try await LedgerBench.ids(of: "end_user", licenseeID: licenseeID, database: database)
            let advisors = try await LedgerBench.ids(of: "advisor", licenseeID: licenseeID, database: database)
            let each: Int64 = 100_000
            for (batch, chunk) in callers.chunked(into: 1_000).enumerated() {
                var legs = chunk.map { Posting.Leg(.wallet(of: $0), each) }
                legs.append(Posting.Leg(.paymentClearing, -each * Int64(chunk.count)))
                _ = try await Ledger(database: database).post(
                    try Posting(licenseeID: licenseeID, currency: "EUR", kind: .topUp, idempotencyKey: "bench-calls-\(batch)", legs: legs),
                    logger: logger)
            }
            let tokens = await AccessTokens(
                keys: try AccessTokenKeys(signingKeyID: "primary", signingKeySeed: Array(seed)),
                settings: .init(issuer: "talktime", audience: "talktime-api", lifetime: .seconds(3600)))
            let authentication = AuthenticationService(database: database, hasher: hasher, tokens: tokens, settings: IdentitySettings())
            let emails = try await database.withTransaction(.licensee(licenseeID), logger: logger) { connection in
                try await connection.query("SELECT id, email FROM users WHERE role = 'end_user'", logger: logger).collect().reduce(
                    into: [UUID: String]()
                ) { emails, row in
                    let (id, email) = try row.decode((UUID, String).self)
                    emails[id] = email
                }
            }
            var lines: [String] = []
            for (caller, advisor) in zip(callers, advisors) {
                let pair = try await authentication.login(licenseeID: licenseeID, email: emails[caller]!, password: password, logger: logger)
                lines.append("\(pair.accessToken) \(advisor.uuidString.lowercased())")
            }
            try (lines.joined(separator: "\n") + "\n").write(toFile: tokensFile, atomically: true, encoding: .utf8)
        }
    }

    /// `POST /v1/calls` at `rate` a second, one line of `tokensFile` each, until the lines run out; each from its
    /// own forwarded client address (the server trusts loopback as a proxy in the benchmark) and with its own
    /// idempotency key. Prints percentiles, as `probe` does; anything but 201 counts as a failure.
    static func load(port: UInt16, tokensFile: String, rate: Double) throws {
        let pairs = try String(contentsOfFile: tokensFile, encoding: .utf8).split(separator: "\n").map { $0.split(separator: " ") }
        let probe = Probe(port: port, label: "POST /v1/calls", expectedStatus: 201) { n in
            let body = #"{"advisor_id":"\#(pairs[n][1])"}"#
            let request =
                "POST /v1/calls HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(pairs[n][0])\r\n"
                + "Content-Type: application/json\r\nIdempotency-Key: \(UUID().uuidString)\r\n"
                + "X-Forwarded-For: 10.\(n / 65_536 % 256).\(n / 256 % 256).\(n % 256)\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            return Array(request.utf8)
        }
        probe.run(seconds: Double(pairs.count) / rate + 60, rate: rate, limit: pairs.count)
    }

    struct BenchError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
