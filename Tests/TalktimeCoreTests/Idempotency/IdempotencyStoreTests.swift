import Foundation
import Synchronization
import TalktimeTestSupport
import Testing

@testable import TalktimeCore

/// The claim rules behind `Idempotency-Key`, on a moving clock: in progress, replay, mismatch, a dead request's
/// claim expiring, and a released claim running again.
@Suite struct IdempotencyStoreTests {
    final class Clock: Sendable {
        let now = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        func advance(_ seconds: TimeInterval) { now.withLock { $0 += seconds } }
        func read() -> Date { now.withLock { $0 } }
    }

    @Test func claimsFollowStripesRules() async throws {
        try await TestPostgres.withAppDatabase { database in
            let logger = TestPostgres.logger
            let world = try await MoneyFixture.create(in: database)
            let clock = Clock()
            let store = IdempotencyStore(database: database, lease: .seconds(60), now: clock.read)
            let owner = IdempotencyStore.Owner(licenseeID: world.licenseeID, principalID: world.endUserIDs[0], key: "k")
            let other = IdempotencyStore.Owner(licenseeID: world.licenseeID, principalID: world.endUserIDs[1], key: "k")
            let request: [UInt8] = [1, 2, 3]

            #expect(try await store.claim(owner, fingerprint: request, logger: logger) == .proceed)
            #expect(try await store.claim(owner, fingerprint: request, logger: logger) == .inProgress)
            #expect(try await store.claim(owner, fingerprint: [9], logger: logger) == .mismatch)
            // Another caller's key of the same name is theirs alone.
            #expect(try await store.claim(other, fingerprint: [9], logger: logger) == .proceed)

            // The first request died: once its lease runs out, the same request may run again; another may not.
            clock.advance(61)
            #expect(try await store.claim(owner, fingerprint: [9], logger: logger) == .mismatch)
            #expect(try await store.claim(owner, fingerprint: request, logger: logger) == .proceed)

            let response = IdempotencyStore.StoredResponse(status: 201, contentType: "application/json", body: Array("{}".utf8))
            try await store.complete(owner, with: response, logger: logger)
            clock.advance(24 * 3600)
            #expect(try await store.claim(owner, fingerprint: request, logger: logger) == .replay(response))

            // A released claim leaves nothing behind: the key runs again, even with another request.
            try await store.release(other, logger: logger)
            #expect(try await store.claim(other, fingerprint: [7], logger: logger) == .proceed)
        }
    }
}
