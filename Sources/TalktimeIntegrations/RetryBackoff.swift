/// The wait before a retry to an outside service: `base` doubled per attempt (up to 64 times), plus up to 50 %
/// jitter so that many clients retrying at once spread out. Shared by the Stripe, LiveKit and push clients.
enum RetryBackoff {
    static func delay(base: Duration, attempt: Int) -> Duration {
        let delay = base * (1 << min(max(attempt, 1) - 1, 6))
        return delay + delay * Double.random(in: 0...0.5)
    }
}
