import Metrics

/// What the billing engine did, for the operator's dashboards and alerts:
/// - `talktime_billing_increments_total{result}`: increments `charged`, and `unpaid` (refused for want of funds);
/// - `talktime_billing_calls_finished_total{reason}`: calls the engine ended, `insufficient_funds` (their paid
///   time ran out), `missed` (unanswered) or `reconciled` (their room events were lost);
/// - `talktime_billing_rooms_closed_total`: rooms of finished calls it closed;
/// - `talktime_billing_rounds_total{result}` and `talktime_billing_round_seconds`: rounds that `completed` or
///   `failed` (the next one retries), and how long each took. Failing rounds mean calls are not being charged.
public struct BillingMetrics: Sendable {
    private let charged: Counter
    private let unpaid: Counter
    private let endedUnpaid: Counter
    private let missed: Counter
    private let reconciled: Counter
    private let roomsClosed: Counter
    private let completed: Counter
    private let failed: Counter
    private let duration: Metrics.Timer

    public init(factory: any MetricsFactory) {
        func counter(_ label: String, _ dimension: (String, String)? = nil) -> Counter {
            Counter(label: label, dimensions: dimension.map { [$0] } ?? [], factory: factory)
        }
        charged = counter("talktime_billing_increments_total", ("result", "charged"))
        unpaid = counter("talktime_billing_increments_total", ("result", "unpaid"))
        endedUnpaid = counter("talktime_billing_calls_finished_total", ("reason", "insufficient_funds"))
        missed = counter("talktime_billing_calls_finished_total", ("reason", "missed"))
        reconciled = counter("talktime_billing_calls_finished_total", ("reason", "reconciled"))
        roomsClosed = counter("talktime_billing_rooms_closed_total")
        completed = counter("talktime_billing_rounds_total", ("result", "completed"))
        failed = counter("talktime_billing_rounds_total", ("result", "failed"))
        duration = Metrics.Timer(label: "talktime_billing_round_seconds", factory: factory)
    }

    /// Metrics that go nowhere (tests and tools that do not read them).
    public static var none: BillingMetrics { BillingMetrics(factory: NOOPMetricsHandler.instance) }

    func record(_ round: BillingEngine.Round, took elapsed: Duration) {
        charged.increment(by: round.charged)
        unpaid.increment(by: round.unpaid)
        endedUnpaid.increment(by: round.ended)
        missed.increment(by: round.missed)
        reconciled.increment(by: round.reconciled)
        roomsClosed.increment(by: round.roomsClosed)
        completed.increment()
        duration.recordNanoseconds(elapsed.nanoseconds)
    }

    func recordFailure(took elapsed: Duration) {
        failed.increment()
        duration.recordNanoseconds(elapsed.nanoseconds)
    }
}
