import Metrics

/// Counts the events outside services deliver, `talktime_webhook_events_total{source, outcome}`: `source` is
/// `stripe` or `livekit`; `outcome` is what the event's processor made of it (`applied`, `duplicate`, ...), or
/// `rejected` for a delivery that failed verification. A run of rejections means a secret is wrong or someone is
/// forging; no `applied` for long means the provider stopped delivering.
struct WebhookMetrics: Sendable {
    let factory: any MetricsFactory

    func count(_ source: String, outcome: String) {
        Counter(label: "talktime_webhook_events_total", dimensions: [("source", source), ("outcome", outcome)], factory: factory)
            .increment()
    }
}
