import HummingbirdBcrypt
import NIOPosix

/// Hashes and verifies passwords with BCrypt on a thread pool, never on an event loop: one cost-12 hash
/// takes about a fifth of a second of CPU.
public struct PasswordHasher: Sendable {
    public let cost: UInt8
    let threadPool: NIOThreadPool

    public init(cost: UInt8, threadPool: NIOThreadPool = .singleton) {
        self.cost = cost
        self.threadPool = threadPool
    }

    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await threadPool.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    public func verify(_ password: String, hash: String) async throws -> Bool {
        try await threadPool.runIfActive { Bcrypt.verify(password, hash: hash) }
    }
}
