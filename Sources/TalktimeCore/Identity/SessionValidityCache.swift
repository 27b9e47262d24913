import Foundation
import Metrics
import NIOConcurrencyHelpers

/// Remembers for a few seconds that an access token's session still stands, so an authenticated request need
/// not ask PostgreSQL every time.
///
/// It is only as good as what it hears. PostgreSQL notifies every server when anything the check reads changes
/// (migration 0011), and `SessionChangeListener` passes each notification to `forget`. Hence the rules:
/// - Nothing is remembered or answered while the listener is not listening: a notification could be missed.
///   `startedListening` and `stoppedListening` bracket the time it is, and both forget everything.
/// - An answer read from the database is kept only if nothing was forgotten since the read began
///   (`beginRead` hands out the epoch that `remember` checks): otherwise a revocation that committed during
///   the read, and was heard before the answer came back, would be undone by it.
/// - An entry never outlives its session's absolute expiry, nor `lifetime` after it was read.
/// - The server that revokes forgets at once as well (`forget(account:)`), so its next request already fails;
///   other servers follow as soon as the notification reaches them.
public final class SessionValidityCache: Sendable {
    /// What a token names, all of which must match for a remembered answer to apply.
    public struct Key: Hashable, Sendable {
        public var sessionID: UUID
        public var accountID: UUID
        public var role: UserRole
        public var licenseeID: UUID?
        public var generation: Int
    }

    /// The account behind a token that stands.
    public struct Account: Sendable, Equatable {
        public var email: String
        public var displayName: String
    }

    /// Where a read began: `remember` keeps its answer only if nothing was forgotten since.
    public struct ReadTicket: Sendable {
        let epoch: UInt64
    }

    struct Entry {
        var key: Key
        var account: Account
        var validUntil: Date
    }

    struct State {
        var listening = false
        var epoch: UInt64 = 0
        var entries: [UUID: Entry] = [:]
        var sessionsByAccount: [UUID: Set<UUID>] = [:]

        mutating func forgetAll() {
            epoch &+= 1
            entries.removeAll()
            sessionsByAccount.removeAll()
        }

        mutating func remove(session: UUID) {
            guard let entry = entries.removeValue(forKey: session) else { return }
            sessionsByAccount[entry.key.accountID]?.remove(session)
            if sessionsByAccount[entry.key.accountID]?.isEmpty == true { sessionsByAccount[entry.key.accountID] = nil }
        }
    }

    /// How long an answer is trusted without a notification; zero turns the cache off.
    public let lifetime: Duration
    let capacity: Int
    let state = NIOLockedValueBox(State())
    /// 1 while the listener listens (and answers may be remembered), 0 while every request asks the database.
    let listeningGauge: Gauge
    let hits: Counter
    let misses: Counter

    public init(lifetime: Duration = .seconds(30), capacity: Int = 100_000, metrics factory: any MetricsFactory = NOOPMetricsHandler.instance) {
        self.lifetime = lifetime
        self.capacity = capacity
        self.listeningGauge = Gauge(label: "talktime_session_cache_listening", factory: factory)
        self.hits = Counter(label: "talktime_session_cache_lookups_total", dimensions: [("result", "hit")], factory: factory)
        self.misses = Counter(label: "talktime_session_cache_lookups_total", dimensions: [("result", "miss")], factory: factory)
        listeningGauge.record(0)
    }

    /// The remembered account for `key`, if its answer still holds at `now`.
    public func account(for key: Key, now: Date) -> Account? {
        let account = state.withLockedValue { state -> Account? in
            guard state.listening, let entry = state.entries[key.sessionID] else { return nil }
            guard entry.key == key, now < entry.validUntil else {
                state.remove(session: key.sessionID)
                return nil
            }
            return entry.account
        }
        (account == nil ? misses : hits).increment()
        return account
    }

    /// Call before reading the answer from the database; nil when the answer must not be kept.
    public func beginRead() -> ReadTicket? {
        guard lifetime > .zero else { return nil }
        return state.withLockedValue { $0.listening ? ReadTicket(epoch: $0.epoch) : nil }
    }

    /// Keeps a database answer read after `ticket`, unless something was forgotten in between.
    public func remember(_ account: Account, for key: Key, sessionExpiresAt: Date, now: Date, ticket: ReadTicket) {
        let validUntil = min(now.adding(lifetime), sessionExpiresAt)
        state.withLockedValue { state in
            guard state.listening, state.epoch == ticket.epoch, now < validUntil else { return }
            if state.entries.count >= capacity { state.forgetAll() }
            state.remove(session: key.sessionID)
            state.entries[key.sessionID] = Entry(key: key, account: account, validUntil: validUntil)
            state.sessionsByAccount[key.accountID, default: []].insert(key.sessionID)
        }
    }

    /// Everything remembered about an account's sessions.
    public func forget(account accountID: UUID) {
        state.withLockedValue { state in
            state.epoch &+= 1
            for session in state.sessionsByAccount[accountID] ?? [] { state.entries[session] = nil }
            state.sessionsByAccount[accountID] = nil
        }
    }

    /// Runs `change`, which revokes sessions of `accountID` or changes what its tokens stand for, forgetting
    /// the account before and after: this server's very next request sees the change, and an answer read while
    /// it was being committed is not kept (other servers hear of it from PostgreSQL).
    public func forgetting<Result>(account accountID: UUID, _ change: () async throws -> Result) async throws -> Result {
        forget(account: accountID)
        defer { forget(account: accountID) }
        return try await change()
    }

    /// What is remembered about one session.
    public func forget(session sessionID: UUID) {
        state.withLockedValue { state in
            state.epoch &+= 1
            state.remove(session: sessionID)
        }
    }

    /// Applies a notification from the `talktime_sessions` channel; anything unreadable forgets everything.
    public func forget(notification payload: Substring) {
        if payload.hasPrefix(SessionChangeListener.probePrefix) {
            return  // a listener checking that notifications reach it; nothing changed
        } else if payload.hasPrefix("account:"), let id = UUID(uuidString: String(payload.dropFirst("account:".count))) {
            forget(account: id)
        } else if payload.hasPrefix("session:"), let id = UUID(uuidString: String(payload.dropFirst("session:".count))) {
            forget(session: id)
        } else {
            state.withLockedValue { $0.forgetAll() }
        }
    }

    /// The listener hears every change from now on.
    public func startedListening() {
        state.withLockedValue { state in
            state.forgetAll()
            state.listening = true
        }
        listeningGauge.record(1)
    }

    /// The listener may miss changes: nothing is remembered or answered until it listens again.
    public func stoppedListening() {
        state.withLockedValue { state in
            state.forgetAll()
            state.listening = false
        }
        listeningGauge.record(0)
    }

    /// How many sessions are remembered (for tests and metrics).
    public var count: Int { state.withLockedValue { $0.entries.count } }
}
