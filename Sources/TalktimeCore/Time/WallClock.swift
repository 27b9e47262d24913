import Foundation

/// Where the call domain reads the time and waits: the system's clock in production, a clock the test moves.
///
/// Everything with a deadline (ring timeouts, paid time, billing rounds) reads `now()` from here, never
/// `Date()` or the database's `now()`, so a test can run an hour of calls in a millisecond.
public protocol WallClock: Sendable {
    func now() -> Date
    /// Returns at `deadline` (or at once if it has passed), or throws when the task is cancelled.
    func sleep(until deadline: Date) async throws
}

/// The system's clock.
public struct SystemWallClock: WallClock {
    public init() {}

    public func now() -> Date { Date() }

    public func sleep(until deadline: Date) async throws {
        let seconds = deadline.timeIntervalSinceNow
        guard seconds > 0 else { return }
        try await Task.sleep(for: .milliseconds(Int64((seconds * 1000).rounded(.up))))
    }
}
