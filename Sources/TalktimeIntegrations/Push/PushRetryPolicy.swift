import Foundation
import Logging
import NIOCore
import NIOHTTP1
import TalktimeCore

/// What one attempt to deliver a push came to.
enum PushAttemptResult: Sendable {
    /// An answer that settles the push.
    case finished(PushOutcome)
    /// A transient failure (429, 5xx, a network error or timeout): try again after the delay the service asked
    /// for, if it did.
    case retry(after: Duration?, reason: String)
    /// The service rejected our credential as stale; the attempt already dropped it, so the next gets a new one.
    case credentialRejected(reason: String)
}

/// How a notifier retries: a bounded number of attempts with exponential backoff and jitter, the service's
/// `Retry-After` honoured, one extra attempt after a stale credential, and never past the push's time to live.
struct PushRetryPolicy: Sendable {
    let maxAttempts: Int
    /// The first retry's delay; each later one doubles, with up to 50 % jitter.
    let baseDelay: Duration
    /// The longest wait between attempts; a service asking for more is given up on.
    static let longestDelay: Duration = .seconds(60)

    /// Runs `attempt` until it settles the push, the attempts run out, or waiting would outlive `deadline`; logs
    /// how it ended.
    func run(
        deadline: Date, now: @Sendable () -> Date, logger: Logger, _ attempt: (_ number: Int) async -> PushAttemptResult
    ) async -> PushOutcome {
        let outcome = await settle(deadline: deadline, now: now, logger: logger, attempt)
        switch outcome {
        case .delivered: logger.debug("push delivered")
        case .deviceGone: logger.info("push device gone")
        case .failed(let reason): logger.warning("push failed", metadata: ["push_failure": "\(reason)"])
        case .notConfigured: break
        }
        return outcome
    }

    private func settle(
        deadline: Date, now: @Sendable () -> Date, logger: Logger, _ attempt: (_ number: Int) async -> PushAttemptResult
    ) async -> PushOutcome {
        var number = 0
        var renewedCredential = false
        while true {
            number += 1
            let result = await attempt(number)
            switch result {
            case .finished(let outcome):
                return outcome
            case .credentialRejected(let reason):
                // One fresh credential per send: a second rejection is not staleness but a misconfiguration.
                guard !renewedCredential else { return .failed(reason: reason) }
                renewedCredential = true
                number -= 1
            case .retry(let after, let reason):
                guard number < maxAttempts else { return .failed(reason: "\(reason) (after \(number) attempts)") }
                let delay = after ?? backoff(attempt: number)
                guard delay <= Self.longestDelay, now().addingTimeInterval(delay.totalSeconds) < deadline else {
                    return .failed(reason: "\(reason) (retrying would outlive the push's time to live)")
                }
                logger.debug("push attempt failed, retrying", metadata: ["push_attempt": "\(number)", "push_retry_in": "\(delay)"])
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    return .failed(reason: "\(reason) (cancelled before retrying)")
                }
            }
        }
    }

    private func backoff(attempt: Int) -> Duration {
        RetryBackoff.delay(base: baseDelay, attempt: attempt)
    }
}

extension Duration {
    /// In seconds, with the fraction.
    var totalSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// As NIO's `TimeAmount`, to the nanosecond; sub-second durations are not truncated to zero.
    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
