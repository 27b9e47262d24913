import Foundation
import Metrics

/// Connection pool figures for the metrics endpoint: connections in use, the pool's limit, and how long
/// callers waited for a connection.
public struct DatabasePoolMetrics: Sendable {
    let inUse: Meter
    let waitTime: Metrics.Timer

    public init(maximumConnections: Int, factory: any MetricsFactory) {
        self.inUse = Meter(label: "talktime_db_pool_connections_in_use", factory: factory)
        self.waitTime = Metrics.Timer(label: "talktime_db_pool_wait_seconds", factory: factory)
        Gauge(label: "talktime_db_pool_connections_max", factory: factory).record(maximumConnections)
    }

    func connectionLeased(waited: Duration) {
        inUse.increment()
        waitTime.recordNanoseconds(waited.nanoseconds)
    }

    func connectionReturned() {
        inUse.decrement()
    }
}

extension Duration {
    /// The whole duration in nanoseconds, for swift-metrics timers.
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
