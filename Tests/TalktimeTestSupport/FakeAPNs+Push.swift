import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TalktimeSecurity

/// APNs' `POST /3/device/{token}`, as the fake runs it: the device token's form, the provider token, any
/// injected failure, the VoIP headers and payload, then what the test said about the device token.
extension FakeAPNs.Store {
    /// Answers a push, with how long to hold the answer back.
    func push(request: Request, deviceToken: String, body: String) -> (Response, Duration?) {
        let delay = state.withLock { state -> Duration? in
            state.requestCount += 1
            return state.delays.isEmpty ? nil : state.delays.removeFirst()
        }
        guard !deviceToken.isEmpty, deviceToken.count % 2 == 0, deviceToken.allSatisfy(\.isHexDigit) else {
            return (refuse(400, "BadDeviceToken", "path is not a hex device token"), delay)
        }
        let providerToken: String
        switch verify(authorization: request.headers[.authorization]) {
        case .failure(let refusal):
            if refusal.reason != "ExpiredProviderToken" { state.withLock { $0.refusals.append("auth: \(refusal.why)") } }
            return (Self.reason(403, refusal.reason), delay)
        case .success(let token):
            providerToken = token
        }
        if let failure = state.withLock({ $0.failures.isEmpty ? nil : $0.failures.removeFirst() }) {
            var response = Self.reason(failure.status, failure.reason)
            if let seconds = failure.retryAfter { response.headers[.retryAfter] = String(seconds) }
            return (response, delay)
        }
        let header = { (name: String) in request.headers[HTTPField.Name(name)!] }
        guard header("apns-push-type") == "voip" else { return (refuse(400, "InvalidPushType", "apns-push-type must be voip"), delay) }
        guard let topic = header("apns-topic") else { return (refuse(400, "MissingTopic", "no apns-topic"), delay) }
        guard topic == bundleID + ".voip" else { return (refuse(400, "DeviceTokenNotForTopic", "topic \(topic)"), delay) }
        guard let priority = header("apns-priority"), priority == "10" else {
            return (refuse(400, "BadPriority", "a ring is sent at priority 10"), delay)
        }
        guard let expirationText = header("apns-expiration"), let expiration = Int(expirationText), expiration >= 0 else {
            return (refuse(400, "BadExpirationDate", "apns-expiration must be UNIX seconds"), delay)
        }
        let collapseID = header("apns-collapse-id")
        if let collapseID, collapseID.utf8.count > 64 { return (refuse(400, "BadCollapseId", "longer than 64 bytes"), delay) }
        guard !body.isEmpty else { return (refuse(400, "PayloadEmpty", "no body"), delay) }
        guard body.utf8.count <= 5120 else { return (refuse(413, "PayloadTooLarge", "VoIP payloads are at most 5120 bytes"), delay) }
        guard let payload = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any], payload["aps"] is [String: Any]
        else { return (refuse(400, "BadPayload", "the payload must be a JSON object with an aps dictionary"), delay) }
        var data: [String: String] = [:]
        for (key, value) in payload where key != "aps" {
            guard let text = value as? String else { return (refuse(400, "BadPayload", "Talktime's fields are strings: \(key)"), delay) }
            data[key] = text
        }
        let (unregistered, bad) = state.withLock { ($0.unregistered.contains(deviceToken), $0.bad.contains(deviceToken)) }
        if unregistered {
            return (Self.json(410, ["reason": "Unregistered", "timestamp": Int(now().timeIntervalSince1970 * 1000)]), delay)
        }
        if bad { return (Self.reason(400, "BadDeviceToken"), delay) }
        let push = FakeAPNs.Push(
            deviceToken: deviceToken, pushType: "voip", topic: topic, priority: priority, expiration: expiration, collapseID: collapseID,
            data: data, body: body, providerToken: providerToken)
        state.withLock { $0.pushes.append(push) }
        var response = Response(status: .ok)
        response.headers[HTTPField.Name("apns-id")!] = UUID().uuidString
        return (response, delay)
    }

    /// Why APNs would refuse a provider token: its reason, and what was wrong for the test's eyes.
    struct TokenRefusal: Error {
        let reason: String
        let why: String
    }

    /// The provider token from `bearer <jwt>`, if ES256 by this key with this key and team ID and under an hour old.
    private func verify(authorization: String?) -> Result<String, TokenRefusal> {
        let invalid = { (why: String) in Result<String, TokenRefusal>.failure(.init(reason: "InvalidProviderToken", why: why)) }
        guard let authorization, authorization.lowercased().hasPrefix("bearer ") else {
            return .failure(.init(reason: "MissingProviderToken", why: "no bearer token"))
        }
        let token = String(authorization.dropFirst("bearer ".count))
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let headerBytes = Base64URL.decode(parts[0]), let claimBytes = Base64URL.decode(parts[1]),
            let signatureBytes = Base64URL.decode(parts[2]),
            let header = (try? JSONSerialization.jsonObject(with: Data(headerBytes))) as? [String: Any],
            let claims = (try? JSONSerialization.jsonObject(with: Data(claimBytes))) as? [String: Any]
        else { return invalid("malformed JWT") }
        guard header["alg"] as? String == "ES256" else { return invalid("alg must be ES256") }
        guard header["kid"] as? String == keyID else { return invalid("kid is not the key's ID") }
        // JWS ES256 signatures are r and s, 32 bytes each, not DER.
        guard let signature = try? P256.Signing.ECDSASignature(rawRepresentation: signatureBytes), signatureBytes.count == 64,
            key.publicKey.isValidSignature(signature, for: SHA256.hash(data: Data((parts[0] + "." + parts[1]).utf8)))
        else { return invalid("bad signature") }
        guard claims["iss"] as? String == teamID else { return invalid("iss is not the team ID") }
        guard let number = claims["iat"] as? NSNumber, number.doubleValue == number.doubleValue.rounded() else {
            return invalid("iat must be whole UNIX seconds")
        }
        let age = Int(now().timeIntervalSince1970) - number.intValue
        guard age >= -60 else { return invalid("iat is in the future") }
        let expired = state.withLock { $0.expiredProviderTokens.contains(token) }
        guard age <= 3600, !expired else { return .failure(.init(reason: "ExpiredProviderToken", why: "older than an hour")) }
        state.withLock { state in
            if !state.providerTokens.contains(token) { state.providerTokens.append(token) }
        }
        return .success(token)
    }

    /// Refuses a request the client got wrong, and remembers why.
    private func refuse(_ status: Int, _ reason: String, _ why: String) -> Response {
        state.withLock { $0.refusals.append("\(reason): \(why)") }
        return Self.reason(status, reason)
    }

    /// APNs' error body.
    static func reason(_ status: Int, _ reason: String) -> Response {
        json(status, ["reason": reason])
    }

    static func json(_ status: Int, _ object: [String: Any]) -> Response {
        var response = Response(
            status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))))
        response.headers[HTTPField.Name("apns-id")!] = UUID().uuidString
        return response
    }
}
