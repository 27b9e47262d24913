import Metrics

/// What became of incoming-call alerts, for the operator (an Advisor who is never alerted never answers):
/// - `talktime_push_deliveries_total{platform, result}`: each device's push `delivered`, `device_gone` (the
///   device was deleted), `failed` (after the notifier's retries) or `not_configured` (no push service for it);
/// - `talktime_push_alerts_total{result}`: alerts `sent` to the Advisor's devices (perhaps none), `failed` (the
///   devices or the credentials could not be read), or `dropped` (the queue was full and the oldest went).
public struct PushMetrics: Sendable {
    private let factory: any MetricsFactory

    public init(factory: any MetricsFactory) {
        self.factory = factory
    }

    /// Metrics that go nowhere.
    public static var none: PushMetrics { PushMetrics(factory: NOOPMetricsHandler.instance) }

    func delivery(_ outcome: PushOutcome, platform: DevicePlatform) {
        let result =
            switch outcome {
            case .delivered: "delivered"
            case .deviceGone: "device_gone"
            case .failed: "failed"
            case .notConfigured: "not_configured"
            }
        Counter(
            label: "talktime_push_deliveries_total", dimensions: [("platform", platform.rawValue), ("result", result)], factory: factory
        ).increment()
    }

    func alert(_ result: String) {
        Counter(label: "talktime_push_alerts_total", dimensions: [("result", result)], factory: factory).increment()
    }
}
