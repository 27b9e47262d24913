import Foundation
import Synchronization

/// A clock a test moves by hand, shared by the code under test and the fakes so both agree on "now".
public final class TestClock: Sendable {
    private let current: Mutex<Date>

    public init(_ start: Date = Date()) {
        current = Mutex(start)
    }

    public var now: Date { current.withLock { $0 } }

    /// The clock as the `now` closure the notifiers and fakes take.
    public var read: @Sendable () -> Date { { self.now } }

    public func advance(by duration: Duration) {
        let (seconds, attoseconds) = duration.components
        current.withLock { $0 = $0.addingTimeInterval(Double(seconds) + Double(attoseconds) / 1e18) }
    }
}
