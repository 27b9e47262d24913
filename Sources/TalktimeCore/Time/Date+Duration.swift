import Foundation

extension Date {
    /// This instant moved by `duration`, to the attosecond Foundation can hold.
    public func adding(_ duration: Duration) -> Date {
        addingTimeInterval(Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }
}
