import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// FCM's `messages:send`, as the fake runs it: the bearer token first, then any injected failure, then the
/// message's shape, then what the test said about the device token.
extension FakeFCM.Store {
    /// Answers a send, with how long to hold the answer back.
    func send(request: Request, project: String, body: String) -> (Response, Duration?) {
        let delay = state.withLock { state -> Duration? in
            state.sendCount += 1
            return state.delays.isEmpty ? nil : state.delays.removeFirst()
        }
        guard let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer "),
            let expiry = state.withLock({ $0.accessTokens[String(authorization.dropFirst("Bearer ".count))] }), expiry > now()
        else {
            return (Self.fcmError(401, status: "UNAUTHENTICATED", message: "Request had invalid authentication credentials."), delay)
        }
        if let failure = state.withLock({ $0.sendFailures.isEmpty ? nil : $0.sendFailures.removeFirst() }) {
            var response = Self.injected(failure.status)
            if let seconds = failure.retryAfter { response.headers[.retryAfter] = String(seconds) }
            return (response, delay)
        }
        guard project == projectID else {
            state.withLock { $0.refusals.append("send: unknown project \(project)") }
            return (Self.fcmError(404, status: "NOT_FOUND", message: "Requested entity was not found."), delay)
        }
        let message: FakeFCM.Message
        switch Self.parse(body, contentType: request.headers[.contentType]) {
        case .failure(let violation):
            state.withLock { $0.refusals.append("send: \(violation.field): \(violation.description)") }
            return (Self.badRequest(violation), delay)
        case .success(let parsed):
            message = parsed
        }
        let (unregistered, invalid) = state.withLock { ($0.unregistered.contains(message.token), $0.invalid.contains(message.token)) }
        if unregistered {
            return (Self.fcmError(404, status: "NOT_FOUND", message: "Requested entity was not found.", errorCode: "UNREGISTERED"), delay)
        }
        if invalid {
            let text = "The registration token is not a valid FCM registration token"
            return (Self.fcmError(400, status: "INVALID_ARGUMENT", message: text, errorCode: "INVALID_ARGUMENT"), delay)
        }
        state.withLock { $0.messages.append(message) }
        return (Self.json(200, ["name": "projects/\(projectID)/messages/0:\(UInt64.random(in: 1...UInt64.max))"]), delay)
    }

    /// A field FCM would refuse, named as FCM names it.
    struct Violation: Error {
        let field: String
        let description: String
    }

    /// The message, if it is a data-only message with high priority and a TTL, and nothing else.
    static func parse(_ body: String, contentType: String?) -> Result<FakeFCM.Message, Violation> {
        guard contentType?.hasPrefix("application/json") == true else {
            return .failure(.init(field: "Content-Type", description: "must be application/json"))
        }
        guard let root = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any], Set(root.keys) == ["message"],
            let message = root["message"] as? [String: Any]
        else { return .failure(.init(field: "message", description: "the body must be {\"message\": {...}} and nothing else")) }
        let unexpected = Set(message.keys).subtracting(["token", "data", "android"])
        guard unexpected.isEmpty else {
            return .failure(.init(field: "message.\(unexpected.sorted()[0])", description: "not part of a data-only message to a token"))
        }
        guard let token = message["token"] as? String, !token.isEmpty else {
            return .failure(.init(field: "message.token", description: "Invalid registration token"))
        }
        guard let rawData = message["data"] as? [String: Any] else {
            return .failure(.init(field: "message.data", description: "a data-only message needs data"))
        }
        var data: [String: String] = [:]
        for (key, value) in rawData {
            guard let text = value as? String else {
                return .failure(.init(field: "message.data[\(key)]", description: "Invalid value: data values must be strings"))
            }
            let lower = key.lowercased()
            guard !["from", "notification", "message_type"].contains(lower), !lower.hasPrefix("google."), !lower.hasPrefix("gcm.") else {
                return .failure(.init(field: "message.data[\(key)]", description: "Invalid data key: reserved by FCM"))
            }
            data[key] = text
        }
        guard data["type"] != nil else { return .failure(.init(field: "message.data", description: "Talktime's messages carry a type")) }
        guard let android = message["android"] as? [String: Any],
            Set(android.keys).isSubset(of: ["priority", "ttl", "collapse_key"])
        else { return .failure(.init(field: "message.android", description: "priority, ttl and collapse_key only")) }
        guard let priority = android["priority"] as? String, priority == "HIGH" else {
            return .failure(.init(field: "message.android.priority", description: "must be HIGH for a ring"))
        }
        guard let ttl = android["ttl"] as? String, isTTL(ttl) else {
            return .failure(.init(field: "message.android.ttl", description: "Invalid value: a duration such as \"30s\", at most four weeks"))
        }
        let collapseKey = android["collapse_key"]
        guard collapseKey == nil || collapseKey is String else {
            return .failure(.init(field: "message.android.collapse_key", description: "must be a string"))
        }
        return .success(
            FakeFCM.Message(token: token, data: data, priority: priority, ttl: ttl, collapseKey: collapseKey as? String, body: body))
    }

    /// Protobuf's Duration in JSON: seconds with up to nine decimals and an `s`; FCM allows up to four weeks.
    static func isTTL(_ text: String) -> Bool {
        guard text.hasSuffix("s") else { return false }
        let number = text.dropLast()
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, parts[0].allSatisfy(\.isASCIIDigit) else { return false }
        if parts.count == 2 { guard (1...9).contains(parts[1].count), parts[1].allSatisfy(\.isASCIIDigit) else { return false } }
        return (Double(number) ?? .infinity) <= 2_419_200
    }

    /// An injected failure, with the body FCM sends for that status.
    static func injected(_ status: Int) -> Response {
        switch status {
        case 429: fcmError(429, status: "RESOURCE_EXHAUSTED", message: "Quota exceeded.", errorCode: "QUOTA_EXCEEDED")
        case 503: fcmError(503, status: "UNAVAILABLE", message: "The service is currently unavailable.", errorCode: "UNAVAILABLE")
        case 500: fcmError(500, status: "INTERNAL", message: "Internal error encountered.", errorCode: "INTERNAL")
        case 400: badRequest(.init(field: "message.data[0].value", description: "Invalid value at 'message.data[0].value'"))
        case 403: fcmError(403, status: "PERMISSION_DENIED", message: "SenderId mismatch", errorCode: "SENDER_ID_MISMATCH")
        case 404: fcmError(404, status: "NOT_FOUND", message: "Requested entity was not found.")
        default: fcmError(status, status: "UNKNOWN", message: "Injected failure.")
        }
    }

    /// 400 `INVALID_ARGUMENT` with a `BadRequest` detail naming the field.
    static func badRequest(_ violation: Violation) -> Response {
        let details: [[String: Any]] = [
            ["@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "INVALID_ARGUMENT"],
            [
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [["field": violation.field, "description": violation.description]],
            ],
        ]
        return json(
            400, ["error": ["code": 400, "message": "Request contains an invalid argument.", "status": "INVALID_ARGUMENT", "details": details]])
    }

    /// FCM's error body (google.rpc.Status), with an `FcmError` detail when `errorCode` is given.
    static func fcmError(_ code: Int, status: String, message: String, errorCode: String? = nil) -> Response {
        var error: [String: Any] = ["code": code, "message": message, "status": status]
        if let errorCode { error["details"] = [["@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": errorCode]] }
        return json(code, ["error": error])
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
