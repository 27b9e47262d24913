import CTalktimeScheduling
import Crypto
import Foundation
import HummingbirdBcrypt
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Hashes and verifies passwords with BCrypt on a bounded worker pool, never on an event loop.
///
/// - One cost-12 hash is about a fifth of a second of CPU, so the pool has one thread per core and admits a
///   bounded number of waiting jobs: past that, `hash` and `verify` throw `PasswordHasherBusy` at once (answered
///   503 with `Retry-After`) rather than queue without limit while other requests starve.
/// - BCrypt reads at most 72 bytes. A longer password is first reduced to the base64 of its SHA-256 (44 bytes),
///   so every byte counts and nothing is silently truncated; passwords of up to 72 bytes are hashed as they are,
///   which keeps our hashes interchangeable with every other BCrypt for them.
/// - `$2a$`, `$2b$` and `$2y$` hashes verify (`$2y$` is `$2b$` under PHP's name), so users can be imported.
/// - Unknown accounts are checked against a dummy hash of the same cost, so they take as long as wrong passwords.
/// - The workers run at the lowest priority, nice 19, with the shortest time slice (0.1 ms, on Linux 6.12 and
///   later): the event loops and PostgreSQL preempt them as soon as they wake, so a login storm spends every idle
///   cycle on hashing without delaying other requests. Nice alone was not enough under EEVDF: a thread woken
///   behind a hashing thread could wait for the rest of its default slice (bench/README.md has the p99 of
///   `GET /v1/me` during login storms with and without). SCHED_IDLE was measured too: no better for
///   latency, and it starves logins outright whenever anything else keeps the CPUs busy.
public final class PasswordHasher: Sendable {
    public let cost: UInt8
    let threadPool: NIOThreadPool
    let capacity: Int
    let admitted = NIOLockedValueBox(0)
    let dummyHash: String

    public init(cost: UInt8, threads: Int = System.coreCount, queueLimit: Int = 64) {
        self.cost = cost
        self.threadPool = NIOThreadPool(numberOfThreads: max(1, threads))
        self.capacity = max(1, threads) + max(0, queueLimit)
        self.threadPool.start()
        self.dummyHash = Bcrypt.hash("dummy password for unknown accounts", cost: cost)
    }

    deinit {
        threadPool.shutdownGracefully { _ in }
    }

    public func hash(_ password: String) async throws -> String {
        let input = Self.bcryptInput(password)
        let cost = self.cost
        return try await run { Bcrypt.hash(input, cost: cost) }
    }

    /// Whether `password` matches `hash`; with no hash (an unknown account) it spends the same time and says no.
    public func verify(_ password: String, against hash: String?) async throws -> Bool {
        let input = Self.bcryptInput(password)
        // BCrypt's C core stops at a NUL: "right password + NUL + anything" would match. Such a password never
        // does, after the same work as any other miss.
        guard let hash, let normalized = Self.normalized(hash), !password.utf8.contains(0) else {
            let dummy = dummyHash
            _ = try await run { Bcrypt.verify(input, hash: dummy) }
            return false
        }
        return try await run { Bcrypt.verify(input, hash: normalized) }
    }

    /// True when `hash` was made with a lower cost than ours (or another variant): rehash it at the next login.
    public func needsRehash(_ hash: String) -> Bool {
        guard hash.hasPrefix("$2b$"), let cost = Self.cost(of: hash) else { return true }
        return cost < self.cost
    }

    static func cost(of hash: String) -> UInt8? {
        let parts = hash.split(separator: "$")
        guard parts.count >= 3 else { return nil }
        return UInt8(parts[1])
    }

    /// The bytes BCrypt sees: the password itself up to 72 bytes, otherwise base64(SHA-256(password)).
    static func bcryptInput(_ password: String) -> String {
        guard password.utf8.count > 72 else { return password }
        return Data(SHA256.hash(data: Data(password.utf8))).base64EncodedString()
    }

    /// Nice 19 and a 0.1 ms slice for the calling thread only (on Linux both are per thread): the event loops'
    /// threads stay as they are.
    static func lowerThisThreadsPriority() {
        _ = talktime_make_thread_background(19, 100_000)
    }

    /// `$2y$` is accepted under its `$2b$` name; anything that is not a BCrypt hash never verifies.
    static func normalized(_ hash: String) -> String? {
        guard hash.utf8.count == 60 else { return nil }
        if hash.hasPrefix("$2a$") || hash.hasPrefix("$2b$") { return hash }
        if hash.hasPrefix("$2y$") { return "$2b$" + hash.dropFirst(4) }
        return nil
    }

    func run<Result: Sendable>(_ work: @escaping @Sendable () -> Result) async throws -> Result {
        let admittedNow = admitted.withLockedValue { count -> Bool in
            guard count < capacity else { return false }
            count += 1
            return true
        }
        guard admittedNow else { throw PasswordHasherBusy() }
        defer { admitted.withLockedValue { $0 -= 1 } }
        return try await threadPool.runIfActive {
            Self.lowerThisThreadsPriority()
            return work()
        }
    }
}

/// The password hashing pool is full; the request should be retried shortly.
public struct PasswordHasherBusy: Error {}
