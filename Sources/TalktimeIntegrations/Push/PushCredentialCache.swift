import Foundation
import Logging

/// Why a credential (an FCM access token, an APNs provider token) could not be had; the reason is safe to log.
struct PushCredentialError: Error {
    let reason: String
    /// Whether trying again later may succeed (a network error, 429, 5xx), as opposed to a refusal.
    let retryable: Bool
}

/// A credential that is costly or rate-limited to renew, shared by every send: kept until its renewal time,
/// renewed by one task however many sends need it at once, and dropped only when the service rejects the very
/// value it holds (so a burst of rejections of one stale value renews it once, not once per send).
actor PushCredentialCache {
    /// A credential and when to stop using it.
    struct Issued: Sendable {
        let value: String
        let renewAt: Date
    }

    private let issue: @Sendable (Logger) async throws(PushCredentialError) -> Issued
    private let now: @Sendable () -> Date
    private var current: Issued?
    private var renewal: Task<Issued, any Error>?

    init(now: @escaping @Sendable () -> Date, issue: @escaping @Sendable (Logger) async throws(PushCredentialError) -> Issued) {
        self.now = now
        self.issue = issue
    }

    /// The current credential, renewed first if it is due; concurrent callers share one renewal.
    func value(logger: Logger) async throws(PushCredentialError) -> String {
        if let current, now() < current.renewAt { return current.value }
        let task: Task<Issued, any Error>
        if let renewal {
            task = renewal
        } else {
            let issue = issue
            task = Task { try await issue(logger) }
            renewal = task
        }
        do {
            let issued = try await task.value
            if renewal == task {
                renewal = nil
                current = issued
            }
            return issued.value
        } catch {
            if renewal == task { renewal = nil }
            throw error as? PushCredentialError ?? PushCredentialError(reason: "credential renewal failed", retryable: true)
        }
    }

    /// Forgets `value` if it is still the one held, after the service rejected it.
    func reject(_ value: String) {
        if current?.value == value { current = nil }
    }
}
