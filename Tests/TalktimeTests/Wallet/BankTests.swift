import Foundation
import Hummingbird
import Synchronization
import TalktimeCore
import TalktimeTestSupport
import Testing

@testable import Talktime

/// A bank test after Jepsen's: 32 workers run a fixed, shuffled list of operations at once (signed top-up
/// webhooks with duplicates, refunds and disputes in any order, call charges, admin adjustments, snapshot reads
/// of every balance). Every snapshot must sum to zero, no charge may take a wallet below zero, every wallet
/// must end at what the operations that succeeded add up to, and `ledger verify` must pass.
/// It prints its seed; `TALKTIME_TEST_SEED=<seed>` replays the same operations.
@Suite struct BankTests {
    enum Operation: Sendable {
        case webhook([UInt8])
        case charge(user: UUID, gross: Int64, key: String)
        case adjust(userIndex: Int, amount: Int64, key: String)
        case snapshot
    }

    /// What the operations that succeeded did to each wallet.
    final class Model: Sendable {
        let moved = Mutex<[UUID: Int64]>([:])
        let snapshots = Mutex<[Int64]>([])
        let adjustedKeys = Mutex<Set<String>>([])
        let cursor = Mutex(0)

        func add(_ amount: Int64, to user: UUID) { moved.withLock { $0[user, default: 0] += amount } }

        /// The next operation's index, for whichever worker asks first.
        func nextIndex() -> Int {
            cursor.withLock { value in
                defer { value += 1 }
                return value
            }
        }
    }

    @Test func thirtyTwoWorkersNeverLoseOrMakeMoney() async throws {
        let seed = SeededGenerator.seed(named: "thirtyTwoWorkersNeverLoseOrMakeMoney")
        try await PaymentWorld.run { payments in
            var random = SeededGenerator(seed: seed)
            let world = payments.world
            // Six End Users: the world's one and five more.
            var tokens = [world.alpha.endUserToken]
            for index in 1...5 {
                let reply = try await world.http.send(
                    .post, "/v1/auth/register",
                    json: ["email": "bank\(index)@alpha.example", "password": IdentityWorld.password, "display_name": "Bank \(index)"],
                    licensee: "alpha")
                tokens.append(try #require(reply.string("access_token"), "\(reply.text)"))
            }
            var users: [UUID] = []
            for token in tokens {
                users.append(try #require(UUID(uuidString: try await world.http.send(.get, "/v1/me", token: token).string("id") ?? "")))
            }
            let advisor = try #require(
                UUID(uuidString: try await world.http.send(.get, "/v1/me", token: world.alpha.advisorToken).string("id") ?? ""))

            // Top-ups are started before the storm: their webhooks are part of it.
            var expected: [UUID: Int64] = [:]
            var operations: [Operation] = []
            var eventNumber = 0
            func nextEvent() -> String {
                eventNumber += 1
                return "evt_bank_\(eventNumber)"
            }
            for (index, token) in tokens.enumerated() {
                for round in 0..<3 {
                    let amount = Int64.random(in: 500...5_000, using: &random)
                    let reply = try await world.http.send(
                        .post, "/v1/wallet/top-ups", json: ["amount": amount], token: token, headers: [.idempotencyKey: "bank-\(index)-\(round)"])
                    let pi = try #require(reply.string("payment_intent_id"), "\(reply.text)")
                    let user = users[index]
                    expected[user, default: 0] += amount
                    // The success, delivered one to three times, sometimes as a second event about the same payment.
                    let success = StripeEventFixtures.paymentIntentSucceeded(eventID: nextEvent(), paymentIntentID: pi, amount: amount)
                    for _ in 0..<Int.random(in: 1...3, using: &random) { operations.append(.webhook(success)) }
                    if Bool.random(using: &random) {
                        operations.append(
                            .webhook(StripeEventFixtures.paymentIntentSucceeded(eventID: nextEvent(), paymentIntentID: pi, amount: amount)))
                    }
                    switch Int.random(in: 0..<4, using: &random) {
                    case 0:
                        // Two partial refunds, cumulative, each maybe twice.
                        let first = Int64.random(in: 1...(amount / 2), using: &random)
                        let second = Int64.random(in: first...amount, using: &random)
                        for cumulative in [first, second] {
                            let event = StripeEventFixtures.chargeRefunded(
                                eventID: nextEvent(), chargeID: "ch_\(pi)", paymentIntentID: pi, amount: amount, amountRefunded: cumulative)
                            for _ in 0..<Int.random(in: 1...2, using: &random) { operations.append(.webhook(event)) }
                        }
                        expected[user, default: 0] -= second
                    case 1:
                        let disputed = Int64.random(in: 1...amount, using: &random)
                        let outcome = Bool.random(using: &random) ? "won" : "lost"
                        for (type, status) in [("charge.dispute.created", "needs_response"), ("charge.dispute.closed", outcome)] {
                            operations.append(
                                .webhook(
                                    StripeEventFixtures.dispute(
                                        eventID: nextEvent(), type: type, disputeID: "dp_\(pi)", chargeID: "ch_\(pi)", paymentIntentID: pi,
                                        amount: disputed, status: status)))
                        }
                        if outcome == "lost" { expected[user, default: 0] -= disputed }
                    default:
                        break
                    }
                }
            }
            for index in 0..<150 {
                operations.append(
                    .charge(
                        user: users.randomElement(using: &random)!, gross: Int64.random(in: 50...900, using: &random), key: "bank-charge-\(index)"))
            }
            for index in 0..<30 {
                let amount = Int64.random(in: -1_500...1_500, using: &random)
                let operation = Operation.adjust(
                    userIndex: Int.random(in: 0..<users.count, using: &random), amount: amount == 0 ? 1 : amount, key: "bank-adjust-\(index)")
                operations.append(operation)
                // Some requests are sent twice: the key must make the second a replay.
                if index % 5 == 0 { operations.append(operation) }
            }
            operations += Array(repeating: .snapshot, count: 40)
            operations.shuffle(using: &random)
            print("bank test: \(operations.count) operations over 32 workers")

            let model = Model()
            try await payments.world.database.withAppDatabase(maximumConnections: 16) { database in
                let ledger = Ledger(database: database)
                let list = operations
                let users = users
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<32 {
                        group.addTask {
                            while true {
                                let index = model.nextIndex()
                                guard index < list.count else { return }
                                switch list[index] {
                                case .webhook(let body):
                                    let reply = try await payments.deliver(body)
                                    #expect(reply.status == .ok, "\(reply.text)")
                                case .charge(let user, let gross, let key):
                                    let posting = try Posting.callCharge(
                                        licenseeID: world.alpha.id, currency: "EUR", idempotencyKey: key, wallet: user, advisor: advisor,
                                        gross: gross,
                                        platformFeeBasisPoints: 1000, commissionBasisPoints: 2000)
                                    do {
                                        let posted = try await ledger.post(posting, logger: TestPostgres.logger)
                                        #expect((posted.entry(for: .wallet(of: user))?.balanceAfter ?? -1) >= 0)
                                        model.add(-gross, to: user)
                                    } catch LedgerError.insufficientFunds {
                                        // Refused: nothing moved.
                                    }
                                case .adjust(let userIndex, let amount, let key):
                                    let reply = try await world.http.send(
                                        .post, "/v1/admin/users/\(users[userIndex])/wallet/adjustments",
                                        json: ["amount": amount, "reason": "bank test"], token: world.alpha.adminToken,
                                        headers: [.idempotencyKey: key])
                                    switch reply.status {
                                    case .created:
                                        // A replay reports the same adjustment: count each key once.
                                        if model.adjustedKeys.withLock({ $0.insert(key).inserted }) { model.add(amount, to: users[userIndex]) }
                                    case .unprocessableContent, .conflict:
                                        #expect(reply.string("type") != nil)
                                    default:
                                        Issue.record("adjustment answered \(reply.status): \(reply.text)")
                                    }
                                case .snapshot:
                                    // One statement reads every balance at one instant.
                                    let total = try await database.withTransaction(.licensee(world.alpha.id), logger: TestPostgres.logger) {
                                        connection in
                                        try await connection.query(
                                            "SELECT coalesce(sum(balance), 0)::int8 FROM ledger_accounts", logger: TestPostgres.logger
                                        )
                                        .collect().first!.decode(Int64.self)
                                    }
                                    model.snapshots.withLock { $0.append(total) }
                                }
                            }
                        }
                    }
                    try await group.waitForAll()
                }

                let snapshots = model.snapshots.withLock { $0 }
                #expect(snapshots.count == 40)
                #expect(snapshots.allSatisfy { $0 == 0 }, "snapshots: \(snapshots)")
                let moved = model.moved.withLock { $0 }
                for (index, user) in users.enumerated() {
                    let balance = try await payments.balance(forToken: tokens[index])
                    #expect(balance == (expected[user] ?? 0) + (moved[user] ?? 0), "user \(index), seed \(seed)")
                }
                let report = try await LedgerVerifier(database: database).verify(logger: TestPostgres.logger)
                #expect(report.isHealthy, "\(report.problems)")
                print("bank test: \(report.transactions) transactions, \(report.entries) entries, ledger consistent: \(report.isHealthy)")
            }
        }
    }
}

extension PaymentWorld {
    func balance(forToken token: String) async throws -> Int64? {
        (try await http.send(.get, "/v1/wallet", token: token).json["balance"] as? Int).map(Int64.init)
    }
}
