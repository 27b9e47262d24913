import Crypto
import CryptoExtras
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TalktimeSecurity

/// Google's OAuth 2.0 token endpoint for service accounts (the JWT bearer grant), as the fake runs it.
extension FakeFCM.Store {
    static let scope = "https://www.googleapis.com/auth/firebase.messaging"
    static let grantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"

    /// Answers a token request: an access token for a valid assertion, Google's OAuth error otherwise.
    func exchange(request: Request, body: String) -> Response {
        let injected = state.withLock { state -> FakeFCM.Failure? in
            state.exchangeCount += 1
            return state.exchangeFailures.isEmpty ? nil : state.exchangeFailures.removeFirst()
        }
        if let injected {
            var response = Self.oauthError(injected.status, "invalid_grant", "Injected failure.")
            if let seconds = injected.retryAfter { response.headers[.retryAfter] = String(seconds) }
            return response
        }
        switch verify(request: request, body: body) {
        case .failure(let refusal):
            state.withLock { $0.refusals.append("token: \(refusal.description)") }
            return Self.oauthError(400, refusal.error, refusal.description)
        case .success:
            let token = "ya29.fake-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            let lifetime = state.withLock { state in
                state.accessTokens[token] = now().addingTimeInterval(Double(state.accessTokenLifetime))
                return state.accessTokenLifetime
            }
            return Self.json(200, ["access_token": token, "expires_in": lifetime, "token_type": "Bearer"])
        }
    }

    /// Why Google would refuse a token request: its OAuth error code and description.
    struct OAuthRefusal: Error {
        let error: String
        let description: String
    }

    private func verify(request: Request, body: String) -> Result<Void, OAuthRefusal> {
        guard request.headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true else {
            return .failure(.init(error: "invalid_request", description: "Content-Type must be application/x-www-form-urlencoded."))
        }
        var form: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, let name = String(parts[0]).removingPercentEncoding, let value = String(parts[1]).removingPercentEncoding
            else { return .failure(.init(error: "invalid_request", description: "Malformed form body.")) }
            form[name] = value
        }
        guard form["grant_type"] == Self.grantType else {
            return .failure(.init(error: "unsupported_grant_type", description: "Invalid grant_type: \(form["grant_type"] ?? "")"))
        }
        guard let assertion = form["assertion"] else { return .failure(.init(error: "invalid_request", description: "Missing assertion.")) }
        return verify(assertion: assertion)
    }

    /// Checks the assertion as Google does: RS256 by this account's key, then its claims.
    private func verify(assertion: String) -> Result<Void, OAuthRefusal> {
        let invalid = { (why: String) in Result<Void, OAuthRefusal>.failure(.init(error: "invalid_grant", description: why)) }
        let parts = assertion.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let headerBytes = Base64URL.decode(parts[0]), let claimBytes = Base64URL.decode(parts[1]),
            let signature = Base64URL.decode(parts[2]),
            let header = (try? JSONSerialization.jsonObject(with: Data(headerBytes))) as? [String: Any],
            let claims = (try? JSONSerialization.jsonObject(with: Data(claimBytes))) as? [String: Any]
        else { return invalid("Invalid JWT: malformed.") }
        guard header["alg"] as? String == "RS256" else { return invalid("Invalid JWT: alg must be RS256.") }
        if let kid = header["kid"], kid as? String != privateKeyID { return invalid("Invalid JWT: unknown kid.") }
        let digest = SHA256.hash(data: Data((parts[0] + "." + parts[1]).utf8))
        guard key.publicKey.isValidSignature(.init(rawRepresentation: signature), for: digest, padding: .insecurePKCS1v1_5) else {
            return invalid("Invalid JWT Signature.")
        }
        guard claims["iss"] as? String == clientEmail else { return invalid("Invalid email or User ID") }
        guard let scopes = claims["scope"] as? String, scopes.split(separator: " ").contains(Substring(Self.scope)) else {
            return .failure(.init(error: "invalid_scope", description: "Invalid OAuth scope or ID token audience provided."))
        }
        guard claims["aud"] as? String == tokenURI else { return invalid("Invalid JWT: Failed audience check.") }
        let timeframe = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe."
        guard let issuedAt = Self.wholeSeconds(claims["iat"]), let expiry = Self.wholeSeconds(claims["exp"]) else { return invalid(timeframe) }
        let now = Int(now().timeIntervalSince1970)
        guard issuedAt <= now + 60, expiry > now, expiry > issuedAt, expiry - issuedAt <= 3600 else { return invalid(timeframe) }
        return .success(())
    }

    /// A JSON number that is a whole number of seconds.
    private static func wholeSeconds(_ value: Any?) -> Int? {
        guard let number = value as? NSNumber else { return nil }
        let double = number.doubleValue
        return double == double.rounded() ? Int(double) : nil
    }

    /// Google's OAuth error body.
    static func oauthError(_ status: Int, _ error: String, _ description: String) -> Response {
        json(status, ["error": error, "error_description": description])
    }

    static func json(_ status: Int, _ object: [String: Any]) -> Response {
        Response(
            status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json; charset=UTF-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))))
    }
}
