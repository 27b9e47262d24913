import Foundation
import Synchronization
import TalktimeCore

/// A clock that stands still until the test moves it, shared by the code under test and the fakes so both
/// agree on "now". Its sleeps wait a few real milliseconds and return, so a
/// service looping on it re-reads the time soon after every move.
public final class TestClock: WallClock, Sendable {
    private let current: Mutex<Date>

    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        current = Mutex(start)
    }

    public func now() -> Date { current.withLock { $0 } }

    /// The clock as the `now` closure the notifiers and fakes take.
    public var read: @Sendable () -> Date { { self.now() } }

    public func advance(by duration: Duration) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }

    public func sleep(until deadline: Date) async throws {
        try await Task.sleep(for: .milliseconds(5))
    }
}
