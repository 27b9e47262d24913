import Foundation
import Logging
import Metrics
import PostgresNIO
import TalktimeCore

/// Issue 4's benchmark helpers: wallet charges through `Ledger.post`, the service's one posting path.
enum LedgerBench {
    static let logger = Logger(label: "talktime.bench")

    /// Creates the Licensee `slug` with `wallets` End Users, each funded far beyond what the run can spend, and
    /// `advisors` Advisors (as the superuser-free service role would see them: through the ledger).
    static func setUp(url: String, slug: String, wallets: Int, advisors: Int) async throws {
        try await withDatabase(url: url, connections: 2) { database in
            let licenseeID = try await database.withTransaction(.platform, logger: logger) { connection in
                let id = try await connection.query(
                    """
                    INSERT INTO licensees (slug, name, app_name, currency, licence_status) VALUES (\(slug), \(slug), \(slug), 'EUR', 'active')
                    RETURNING id
                    """,
                    logger: logger
                ).collect().first!.decode(UUID.self)
                for (role, count) in [("end_user", wallets), ("advisor", advisors)] {
                    try await connection.query(
                        """
                        INSERT INTO users (licensee_id, role, email, password_hash, display_name)
                        SELECT \(id), \(role), \(role) || n || '@' || \(slug) || '.example', 'x', \(role) || n FROM generate_series(1, \(count)) AS n
                        """,
                        logger: logger)
                }
                return id
            }
            let users = try await ids(of: "end_user", licenseeID: licenseeID, database: database)
            let ledger = Ledger(database: database)
            // One posting per 1,000 wallets: clearing pays each wallet 10^12 minor units.
            for (batch, chunk) in users.chunked(into: 1_000).enumerated() {
                let each: Int64 = 1_000_000_000_000
                var legs = chunk.map { Posting.Leg(.wallet(of: $0), each) }
                legs.append(Posting.Leg(.paymentClearing, -each * Int64(chunk.count)))
                _ = try await ledger.post(
                    try Posting(licenseeID: licenseeID, currency: "EUR", kind: .topUp, idempotencyKey: "bench-fund-\(batch)", legs: legs),
                    logger: logger)
            }
        }
    }

    /// Runs `clients` loops of call charges for `seconds` and prints charges per second. Each charge takes 10
    /// minor units from a random wallet of `slug` to a random Advisor, split three ways.
    ///
    /// `BENCH_COMBINE_LIMIT` and `BENCH_COMBINE_BATCHES` set the ledger's `batchLimit` and `concurrentBatches`
    /// (the service's defaults otherwise); a limit of 1 posts every charge alone, as before postings were combined.
    static func charge(url: String, slug: String, clients: Int, seconds: Double) async throws {
        let environment = ProcessInfo.processInfo.environment
        let batchLimit = environment["BENCH_COMBINE_LIMIT"].flatMap(Int.init)
        let concurrentBatches = environment["BENCH_COMBINE_BATCHES"].flatMap(Int.init)
        try await withDatabase(url: url, connections: clients) { database in
            let licenseeID = try await database.withTransaction(.platform, logger: logger) { connection in
                try await connection.query("SELECT id FROM licensees WHERE slug = \(slug)", logger: logger).collect().first!.decode(UUID.self)
            }
            let wallets = try await ids(of: "end_user", licenseeID: licenseeID, database: database)
            let advisors = try await ids(of: "advisor", licenseeID: licenseeID, database: database)
            let defaults = Ledger.CombiningDefaults.self
            let ledger = Ledger(
                database: database, concurrentBatches: concurrentBatches ?? defaults.concurrentBatches,
                batchLimit: batchLimit ?? defaults.batchLimit)
            let run = UUID().uuidString.prefix(8)
            let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
            let start = ContinuousClock.now
            let count = try await withThrowingTaskGroup(of: Int.self) { group in
                for client in 0..<clients {
                    group.addTask {
                        var done = 0
                        while ContinuousClock.now < deadline {
                            let posting = try Posting.callCharge(
                                licenseeID: licenseeID, currency: "EUR", idempotencyKey: "bench:\(run):\(client):\(done)",
                                wallet: wallets.randomElement()!, advisor: advisors.randomElement()!, gross: 10,
                                platformFeeBasisPoints: 1000, commissionBasisPoints: 2000)
                            _ = try await ledger.post(posting, logger: logger)
                            done += 1
                        }
                        return done
                    }
                }
                return try await group.reduce(0, +)
            }
            let elapsed = ContinuousClock.now - start
            let elapsedSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print(String(format: "%.1f", Double(count) / elapsedSeconds))
        }
    }

    static func ids(of role: String, licenseeID: UUID, database: Database) async throws -> [UUID] {
        try await database.withTransaction(.licensee(licenseeID), logger: logger) { connection in
            try await connection.query("SELECT id FROM users WHERE role = \(role) ORDER BY id", logger: logger).collect().map {
                try $0.decode(UUID.self)
            }
        }
    }

    static func withDatabase(url: String, connections: Int, _ body: (Database) async throws -> Void) async throws {
        let client = PostgresClient(
            configuration: try DatabaseURL(url).clientConfiguration(maximumConnections: connections), backgroundLogger: logger)
        try await client.whileRunning {
            try await body(
                Database(client: client, poolMetrics: DatabasePoolMetrics(maximumConnections: connections, factory: NOOPMetricsHandler.instance)))
        }
    }
}

extension Array {
    func chunked(into size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
