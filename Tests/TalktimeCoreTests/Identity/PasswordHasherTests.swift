import Foundation
import HummingbirdBcrypt
import Testing

@testable import TalktimeCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct PasswordHasherTests {
    let hasher = PasswordHasher(cost: 5, threads: 2, queueLimit: 8)

    @Test func hashesVerifyAndWrongPasswordsDoNot() async throws {
        let hash = try await hasher.hash("a fine passphrase")
        #expect(hash.hasPrefix("$2b$05$"))
        #expect(try await hasher.verify("a fine passphrase", against: hash))
        #expect(try await !hasher.verify("a fine passphrasE", against: hash))
        #expect(try await !hasher.verify("a fine passphrase", against: nil))
        #expect(try await !hasher.verify("a fine passphrase", against: "not a hash"))
    }

    #if os(Linux)
        /// The workers give way to everything else: nice 19, and (where the kernel has custom slices, 6.12 and
        /// later) a 0.1 ms slice, read back from the thread's own scheduler statistics. The test's own thread
        /// keeps its priority.
        @Test func workersRunAsBackgroundWorkAndLeaveOtherThreadsAlone() async throws {
            let (nice, sched) = try await hasher.run {
                (getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0), try? String(contentsOfFile: "/proc/thread-self/sched", encoding: .utf8))
            }
            #expect(nice == 19)
            #expect(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) == 0)
            let release = (try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8)) ?? ""
            let version = release.split(separator: ".").prefix(2).compactMap { Int($0.prefix { $0.isNumber }) }
            if version.count == 2, (version[0], version[1]) >= (6, 12) {
                let slice = sched?.split(separator: "\n").first { $0.hasPrefix("se.slice") }
                #expect(slice?.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) == "100000")
            }
        }
    #endif

    @Test func aPasswordWithANULNeverMatches() async throws {
        let hash = try await hasher.hash("a fine passphrase")
        #expect(try await !hasher.verify("a fine passphrase\u{0}anything", against: hash))
        #expect(try await hasher.verify("a fine passphrase", against: hash))
    }

    @Test func everyByteOfALongPasswordCounts() async throws {
        // Two passwords that agree on their first 72 bytes and differ after: plain BCrypt would take them as one.
        let base = String(repeating: "x", count: 72)
        let hash = try await hasher.hash(base + "-tail-one")
        #expect(try await hasher.verify(base + "-tail-one", against: hash))
        #expect(try await !hasher.verify(base + "-tail-two", against: hash))
        #expect(try await !hasher.verify(base, against: hash))
        // Up to 72 bytes the password goes to BCrypt as it is: any BCrypt verifies our hash.
        let short = try await hasher.hash(base)
        #expect(Bcrypt.verify(base, hash: short))
    }

    @Test func importedHashesOfEveryVariantVerify() async throws {
        // The same hash under the names different implementations write.
        let b = Bcrypt.hash("imported password", cost: 4)
        for prefix in ["$2a$", "$2b$", "$2y$"] {
            let hash = prefix + b.dropFirst(4)
            #expect(try await hasher.verify("imported password", against: hash), "\(prefix)")
            #expect(try await !hasher.verify("imported passworD", against: hash), "\(prefix)")
        }
        #expect(try await !hasher.verify("imported password", against: "$2x$" + b.dropFirst(4)))
    }

    @Test func weakerOrForeignHashesAskForARehash() throws {
        #expect(hasher.needsRehash(Bcrypt.hash("p", cost: 4)))
        #expect(!hasher.needsRehash(Bcrypt.hash("p", cost: 5)))
        #expect(!hasher.needsRehash(Bcrypt.hash("p", cost: 6)))
        #expect(hasher.needsRehash("$2y$05$" + String(repeating: "a", count: 53)))
    }

    @Test func aFullPoolRefusesAtOnceInsteadOfQueueing() async throws {
        // One thread, no queue, a slow cost: while one hash runs, the next caller is refused.
        let tight = PasswordHasher(cost: 12, threads: 1, queueLimit: 0)
        async let running = tight.hash("a fine passphrase")
        try await Task.sleep(for: .milliseconds(50))
        await #expect(throws: PasswordHasherBusy.self) { try await tight.hash("another passphrase") }
        _ = try await running
        // Once free, it takes work again.
        _ = try await tight.verify("a fine passphrase", against: nil)
    }
}
