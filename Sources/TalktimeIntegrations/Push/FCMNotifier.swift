import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import TalktimeCore

/// Sends data messages to Android devices through FCM's HTTP v1 API.
///
/// Signs in as the configured service account; the access token is shared by every send and renewed by one
/// exchange shortly before it expires, or when FCM answers 401. 429 and 5xx are retried with backoff, honouring
/// `Retry-After`, until the attempts or the message's time to live run out. Neither the key, the access token
/// nor a device token is ever logged or put in a reason.
public struct FCMNotifier: PushNotifier {
    let configuration: FCMConfiguration
    let httpClient: HTTPClient
    let retryPolicy: PushRetryPolicy
    let now: @Sendable () -> Date
    let accessTokens: PushCredentialCache

    /// Make one and share it: each notifier holds its own access token.
    /// - Parameters:
    ///   - configuration: the service account, FCM's base URL and the limits.
    ///   - httpClient: owned and shut down by the caller.
    ///   - baseRetryDelay: the first backoff; tests pass a millisecond.
    ///   - now: the clock for token lifetimes; tests move it.
    public init(
        configuration: FCMConfiguration, httpClient: HTTPClient = .shared, baseRetryDelay: Duration = .milliseconds(500),
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.configuration = configuration
        self.httpClient = httpClient
        self.retryPolicy = PushRetryPolicy(maxAttempts: configuration.maxAttempts, baseDelay: baseRetryDelay)
        self.now = now
        let exchange = FCMAccessTokenExchange(configuration: configuration, httpClient: httpClient, now: now)
        self.accessTokens = PushCredentialCache(now: now) { (logger: Logger) async throws(PushCredentialError) -> PushCredentialCache.Issued in
            try await exchange.exchange(logger: logger)
        }
    }

    public func send(_ message: PushMessage, to device: PushDevice, logger: Logger) async -> PushOutcome {
        var logger = logger
        logger[metadataKey: "push_service"] = "fcm"
        logger[metadataKey: "push_device_id"] = "\(device.id)"
        let body: ByteBuffer
        do {
            body = ByteBuffer(bytes: try JSONEncoder().encode(FCMSendRequest(message, token: device.token)))
        } catch {
            return .failed(reason: "FCM message could not be encoded")
        }
        let deadline = now().addingTimeInterval(message.timeToLive.totalSeconds)
        return await retryPolicy.run(deadline: deadline, now: now, logger: logger) { attempt in
            await self.attempt(body: body, logger: logger, attempt: attempt)
        }
    }

    private func attempt(body: ByteBuffer, logger: Logger, attempt: Int) async -> PushAttemptResult {
        let accessToken: String
        do {
            accessToken = try await accessTokens.value(logger: logger)
        } catch {
            return error.retryable ? .retry(after: nil, reason: error.reason) : .finished(.failed(reason: error.reason))
        }
        var request = HTTPClientRequest(url: "\(configuration.baseURL)/v1/projects/\(configuration.projectID)/messages:send")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(accessToken)")
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        request.headers.add(name: "User-Agent", value: "Talktime/1.0")
        request.body = .bytes(body)

        let answer: PushHTTPExchange
        do {
            answer = try await PushHTTPExchange.perform(request, on: httpClient, timeout: configuration.requestTimeout)
        } catch {
            let reason = "FCM send \(PushHTTPExchange.describe(error))"
            if Task.isCancelled { return .finished(.failed(reason: reason)) }
            logger.warning("fcm send attempt failed", metadata: ["push_attempt": "\(attempt)", "push_error": "\(reason)"])
            return .retry(after: nil, reason: reason)
        }
        return await classify(answer, accessToken: accessToken, logger: logger, attempt: attempt)
    }

    /// What FCM's answer means for the push.
    private func classify(_ answer: PushHTTPExchange, accessToken: String, logger: Logger, attempt: Int) async -> PushAttemptResult {
        if answer.status == 200 { return .finished(.delivered) }
        let error = try? JSONDecoder().decode(FCMErrorAnswer.self, from: answer.body)
        let summary = error?.summary ?? ""
        let reason = "FCM answered \(answer.status)" + (summary.isEmpty ? "" : " \(summary)")
        logger.notice(
            "fcm refused a send", metadata: ["push_attempt": "\(attempt)", "http_status": "\(answer.status)", "fcm_error": "\(summary)"])
        switch answer.status {
        case 404 where error?.isUnregistered == true, 400 where error?.isInvalidToken == true:
            return .finished(.deviceGone)
        case 401:
            await accessTokens.reject(accessToken)
            return .credentialRejected(reason: reason)
        case 429, 500...599:
            return .retry(after: RetryAfterHeader.wait(in: answer.headers, now: now()), reason: reason)
        default:
            return .finished(.failed(reason: reason))
        }
    }
}
