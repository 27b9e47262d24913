import Foundation
import Testing

@testable import TalktimeCore

/// The rules that keep a remembered answer from outliving a revocation, one by one.
@Suite struct SessionValidityCacheTests {
    let now = Date(timeIntervalSince1970: 1_900_000_000)
    let account = SessionValidityCache.Account(email: "ada@example.com", displayName: "Ada")

    func key(session: UUID = UUID(), account: UUID = UUID(), generation: Int = 0) -> SessionValidityCache.Key {
        SessionValidityCache.Key(sessionID: session, accountID: account, role: .endUser, licenseeID: UUID(), generation: generation)
    }

    func listening(lifetime: Duration = .seconds(30)) -> SessionValidityCache {
        let cache = SessionValidityCache(lifetime: lifetime)
        cache.startedListening()
        return cache
    }

    func remember(_ key: SessionValidityCache.Key, in cache: SessionValidityCache, expiresIn: TimeInterval = 3600) throws {
        let ticket = try #require(cache.beginRead())
        cache.remember(account, for: key, sessionExpiresAt: now.addingTimeInterval(expiresIn), now: now, ticket: ticket)
    }

    @Test func answersWhatItWasToldForExactlyThatToken() throws {
        let cache = listening()
        let key = key()
        try remember(key, in: cache)
        #expect(cache.account(for: key, now: now) == account)
        // Every claim must match: another generation, role, account or Licensee is another question.
        var other = key
        other.generation = 1
        #expect(cache.account(for: other, now: now) == nil)
        other = key
        other.role = .licenseeAdmin
        #expect(cache.account(for: other, now: now) == nil)
        other = key
        other.accountID = UUID()
        #expect(cache.account(for: other, now: now) == nil)
        other = key
        other.licenseeID = UUID()
        #expect(cache.account(for: other, now: now) == nil)
    }

    @Test func remembersNothingWhileNotListening() {
        let cache = SessionValidityCache()
        #expect(cache.beginRead() == nil)
        let key = key()
        cache.startedListening()
        let ticket = cache.beginRead()!
        cache.stoppedListening()
        cache.remember(account, for: key, sessionExpiresAt: now.addingTimeInterval(3600), now: now, ticket: ticket)
        #expect(cache.count == 0)
        cache.startedListening()
        #expect(cache.account(for: key, now: now) == nil)
    }

    @Test func losingTheListenerForgetsEverything() throws {
        let cache = listening()
        let key = key()
        try remember(key, in: cache)
        cache.stoppedListening()
        cache.startedListening()
        #expect(cache.account(for: key, now: now) == nil)
    }

    @Test func anAnswerReadWhileSomethingWasForgottenIsNotKept() throws {
        let cache = listening()
        let key = key()
        let ticket = try #require(cache.beginRead())
        // A revocation of an unrelated account is heard while the read is under way: the epoch moved, so the
        // answer (which may predate a revocation heard in the meantime) is used once but not kept.
        cache.forget(account: UUID())
        cache.remember(account, for: key, sessionExpiresAt: now.addingTimeInterval(3600), now: now, ticket: ticket)
        #expect(cache.account(for: key, now: now) == nil)
    }

    @Test func neverOutlivesItsLifetimeOrItsSession() throws {
        let cache = listening(lifetime: .seconds(30))
        let long = key()
        try remember(long, in: cache)
        #expect(cache.account(for: long, now: now.addingTimeInterval(29.9)) == account)
        #expect(cache.account(for: long, now: now.addingTimeInterval(30)) == nil)

        let ending = key()
        try remember(ending, in: cache, expiresIn: 5)
        #expect(cache.account(for: ending, now: now.addingTimeInterval(4.9)) == account)
        #expect(cache.account(for: ending, now: now.addingTimeInterval(5)) == nil)
    }

    @Test func aLifetimeOfZeroTurnsItOff() {
        let cache = listening(lifetime: .zero)
        #expect(cache.beginRead() == nil)
    }

    @Test func notificationsForgetTheirAccountTheirSessionOrEverything() throws {
        let cache = listening()
        let owner = UUID()
        let first = key(account: owner)
        let second = key(account: owner)
        let bystander = key()
        for key in [first, second, bystander] { try remember(key, in: cache) }

        cache.forget(notification: "session:\(first.sessionID.uuidString.lowercased())")
        #expect(cache.account(for: first, now: now) == nil)
        #expect(cache.account(for: second, now: now) == account)

        cache.forget(notification: "account:\(owner.uuidString.lowercased())")
        #expect(cache.account(for: second, now: now) == nil)
        #expect(cache.account(for: bystander, now: now) == account)

        // Another server's check that notifications reach it changes nothing.
        cache.forget(notification: "\(SessionChangeListener.probePrefix)\(UUID().uuidString)")
        #expect(cache.account(for: bystander, now: now) == account)

        // Anything it cannot read costs everything, never a stale answer.
        for payload in ["all", "account:not-a-uuid", "", "session:"] {
            try remember(bystander, in: cache)
            cache.forget(notification: payload[...])
            #expect(cache.account(for: bystander, now: now) == nil, "\(payload)")
        }
    }

    @Test func forgettingWrapsAChangeOnBothSides() async throws {
        let cache = listening()
        let owner = UUID()
        let key = key(account: owner)
        try remember(key, in: cache)
        let ticket = try #require(cache.beginRead())
        try await cache.forgetting(account: owner) {
            #expect(cache.account(for: key, now: now) == nil)
        }
        // A read begun before the change committed is not kept after it.
        cache.remember(account, for: key, sessionExpiresAt: now.addingTimeInterval(3600), now: now, ticket: ticket)
        #expect(cache.account(for: key, now: now) == nil)
    }

    @Test func aFullCacheStartsAfresh() throws {
        let cache = SessionValidityCache(lifetime: .seconds(30), capacity: 3)
        cache.startedListening()
        let keys = (0..<4).map { _ in key() }
        for key in keys { try remember(key, in: cache) }
        #expect(cache.count == 1)
        #expect(cache.account(for: keys[3], now: now) == account)
    }
}
