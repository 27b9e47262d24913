import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import TalktimeCore

/// Sends VoIP pushes (PushKit) to iOS devices through APNs' HTTP/2 API.
///
/// The provider token is shared by every send, reused for 50 minutes and renewed early when APNs answers
/// `ExpiredProviderToken`. 429 and 5xx are retried with backoff, honouring `Retry-After`, until the attempts or
/// the message's time to live run out. Neither the key, the provider token nor a device token is ever logged or
/// put in a reason.
///
/// AsyncHTTPClient negotiates HTTP/2 over TLS by ALPN, which APNs requires; the loopback fake in tests speaks
/// plain HTTP/1.1, so the tests check everything but the HTTP version.
public struct APNsNotifier: PushNotifier {
    let configuration: APNsConfiguration
    let httpClient: HTTPClient
    let retryPolicy: PushRetryPolicy
    let now: @Sendable () -> Date
    let providerTokens: PushCredentialCache

    /// Make one and share it: each notifier holds its own provider token, and Apple limits how often a team may
    /// renew one.
    /// - Parameters:
    ///   - configuration: the key, its identifiers, the app, APNs' base URL and the limits.
    ///   - httpClient: owned and shut down by the caller.
    ///   - baseRetryDelay: the first backoff; tests pass a millisecond.
    ///   - now: the clock for the token's age and `apns-expiration`; tests move it.
    public init(
        configuration: APNsConfiguration, httpClient: HTTPClient = .shared, baseRetryDelay: Duration = .milliseconds(500),
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.configuration = configuration
        self.httpClient = httpClient
        self.retryPolicy = PushRetryPolicy(maxAttempts: configuration.maxAttempts, baseDelay: baseRetryDelay)
        self.now = now
        let token = APNsProviderToken(configuration: configuration, now: now)
        self.providerTokens = PushCredentialCache(now: now) { (logger: Logger) async throws(PushCredentialError) -> PushCredentialCache.Issued in
            try await token.issue(logger: logger)
        }
    }

    public func send(_ message: PushMessage, to device: PushDevice, logger: Logger) async -> PushOutcome {
        var logger = logger
        logger[metadataKey: "push_service"] = "apns"
        logger[metadataKey: "push_device_id"] = "\(device.id)"
        // The token becomes a path segment: anything but hex could change the URL, and APNs would refuse it anyway.
        guard Self.isDeviceToken(device.token) else {
            logger.info("push device gone", metadata: ["push_failure": "device token is not hexadecimal"])
            return .deviceGone
        }
        let body: ByteBuffer
        do {
            body = ByteBuffer(bytes: try APNsPayload.encode(message))
        } catch {
            return .failed(reason: "APNs payload could not be encoded")
        }
        let startedAt = now()
        let deadline = startedAt.addingTimeInterval(message.timeToLive.totalSeconds)
        // Fixed at the first attempt: a retry must not extend how long APNs keeps a ring.
        let expiration = Int(startedAt.timeIntervalSince1970) + Int(max(0, message.timeToLive.components.seconds))
        return await retryPolicy.run(deadline: deadline, now: now, logger: logger) { attempt in
            await self.attempt(message, token: device.token, body: body, expiration: expiration, logger: logger, attempt: attempt)
        }
    }

    private func attempt(
        _ message: PushMessage, token: String, body: ByteBuffer, expiration: Int, logger: Logger, attempt: Int
    ) async -> PushAttemptResult {
        let providerToken: String
        do {
            providerToken = try await providerTokens.value(logger: logger)
        } catch {
            return error.retryable ? .retry(after: nil, reason: error.reason) : .finished(.failed(reason: error.reason))
        }
        var request = HTTPClientRequest(url: "\(configuration.baseURL)/3/device/\(token)")
        request.method = .POST
        request.headers.add(name: "authorization", value: "bearer \(providerToken)")
        request.headers.add(name: "apns-push-type", value: "voip")
        request.headers.add(name: "apns-topic", value: configuration.voipTopic)
        request.headers.add(name: "apns-priority", value: "10")
        request.headers.add(name: "apns-expiration", value: "\(expiration)")
        if let collapseID = message.collapseKey.map(Self.collapseID) { request.headers.add(name: "apns-collapse-id", value: collapseID) }
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "user-agent", value: "Talktime/1.0")
        request.body = .bytes(body)

        let answer: PushHTTPExchange
        do {
            answer = try await PushHTTPExchange.perform(request, on: httpClient, timeout: configuration.requestTimeout)
        } catch {
            let reason = "APNs send \(PushHTTPExchange.describe(error))"
            if Task.isCancelled { return .finished(.failed(reason: reason)) }
            logger.warning("apns send attempt failed", metadata: ["push_attempt": "\(attempt)", "push_error": "\(reason)"])
            return .retry(after: nil, reason: reason)
        }
        return await classify(answer, providerToken: providerToken, logger: logger, attempt: attempt)
    }

    /// APNs' error body: `{"reason": "BadDeviceToken"}`, with `timestamp` on a 410.
    private struct ErrorAnswer: Decodable {
        let reason: String?
    }

    /// What APNs' answer means for the push.
    private func classify(_ answer: PushHTTPExchange, providerToken: String, logger: Logger, attempt: Int) async -> PushAttemptResult {
        if answer.status == 200 { return .finished(.delivered) }
        let code = (try? JSONDecoder().decode(ErrorAnswer.self, from: answer.body))?.reason.flatMap(Self.safeReason)
        let reason = "APNs answered \(answer.status)" + (code.map { " \($0)" } ?? "")
        logger.notice(
            "apns refused a send",
            metadata: [
                "push_attempt": "\(attempt)", "http_status": "\(answer.status)", "apns_reason": "\(code ?? "-")",
                "apns_id": "\(answer.headers.first(name: "apns-id") ?? "-")",
            ])
        switch (answer.status, code) {
        case (410, _), (400, "BadDeviceToken"?):
            return .finished(.deviceGone)
        case (403, "ExpiredProviderToken"?):
            await providerTokens.reject(providerToken)
            return .credentialRejected(reason: reason)
        case (429, _), (500...599, _):
            return .retry(after: RetryAfterHeader.wait(in: answer.headers, now: now()), reason: reason)
        default:
            return .finished(.failed(reason: reason))
        }
    }

    /// Hexadecimal, an even number of digits; APNs tokens are 32 bytes today but Apple says they may grow.
    static func isDeviceToken(_ token: String) -> Bool {
        !token.isEmpty && token.count % 2 == 0 && token.allSatisfy(\.isHexDigit)
    }

    /// `apns-collapse-id` may not exceed 64 bytes; a longer key is replaced by its SHA-256 in hex (64 bytes), so
    /// equal keys still collapse and different ones still do not.
    static func collapseID(_ key: String) -> String {
        key.utf8.count <= 64 ? key : SHA256.hash(data: Data(key.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// APNs' reasons are single words such as `BadDeviceToken`; anything else is not repeated.
    private static func safeReason(_ reason: String) -> String? {
        reason.count <= 64 && !reason.isEmpty && reason.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) ? reason : nil
    }
}
