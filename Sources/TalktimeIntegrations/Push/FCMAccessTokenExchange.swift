import AsyncHTTPClient
import Foundation
import JWTKit
import Logging
import NIOCore

/// OAuth 2.0 for a service account (RFC 7523 as Google runs it): an RS256-signed assertion exchanged at the
/// account's `token_uri` for a short-lived access token to FCM.
struct FCMAccessTokenExchange: Sendable {
    static let scope = "https://www.googleapis.com/auth/firebase.messaging"
    static let grantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    /// Google accepts assertions living at most an hour.
    static let assertionLifetime = 3600

    let configuration: FCMConfiguration
    let httpClient: HTTPClient
    let now: @Sendable () -> Date

    /// The assertion's claims; Google wants whole seconds, and JWTKit's date claims would write fractions.
    struct AssertionClaims: JWTPayload {
        let iss: String
        let scope: String
        let aud: String
        let iat: Int
        let exp: Int

        func verify(using algorithm: some JWTAlgorithm) throws {}
    }

    private struct TokenAnswer: Decodable {
        let access_token: String
        let expires_in: Int?
    }

    private struct ErrorAnswer: Decodable {
        let error: String?
        let error_description: String?
    }

    /// A signed assertion for now.
    func assertion() async throws -> String {
        let issuedAt = Int(now().timeIntervalSince1970)
        let claims = AssertionClaims(
            iss: configuration.clientEmail, scope: Self.scope, aud: configuration.tokenURI, iat: issuedAt,
            exp: issuedAt + Self.assertionLifetime)
        let keys = JWTKeyCollection()
        let kid = configuration.privateKeyID.map { JWKIdentifier(string: $0) }
        await keys.add(rsa: configuration.privateKey, digestAlgorithm: .sha256, kid: kid)
        return try await keys.sign(claims, kid: kid)
    }

    /// Exchanges a fresh assertion for an access token, to be renewed a little before it expires.
    func exchange(logger: Logger) async throws(PushCredentialError) -> PushCredentialCache.Issued {
        let startedAt = now()
        let assertion: String
        do {
            assertion = try await self.assertion()
        } catch {
            throw PushCredentialError(reason: "could not sign the FCM OAuth assertion", retryable: false)
        }
        var request = HTTPClientRequest(url: configuration.tokenURI)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Talktime/1.0")
        let form = "grant_type=\(Self.formEscape(Self.grantType))&assertion=\(Self.formEscape(assertion))"
        request.body = .bytes(ByteBuffer(string: form))

        let answer: PushHTTPExchange
        do {
            answer = try await PushHTTPExchange.perform(request, on: httpClient, timeout: configuration.requestTimeout)
        } catch {
            let reason = "FCM OAuth token exchange \(PushHTTPExchange.describe(error))"
            logger.warning("fcm oauth token exchange failed", metadata: ["push_error": "\(reason)"])
            throw PushCredentialError(reason: reason, retryable: true)
        }
        guard answer.status == 200 else {
            let detail = try? JSONDecoder().decode(ErrorAnswer.self, from: answer.body)
            let code = Self.safeCode(detail?.error) ?? "-"
            // Google's description names the problem (a bad signature, a skewed clock), never our secrets.
            logger.error(
                "fcm oauth token exchange refused",
                metadata: [
                    "http_status": "\(answer.status)", "oauth_error": "\(code)",
                    "oauth_error_description": "\(String((detail?.error_description ?? "-").prefix(200)))",
                ])
            let retryable = answer.status == 429 || answer.status >= 500
            throw PushCredentialError(reason: "FCM OAuth token exchange refused (\(answer.status) \(code))", retryable: retryable)
        }
        guard let token = try? JSONDecoder().decode(TokenAnswer.self, from: answer.body), !token.access_token.isEmpty else {
            throw PushCredentialError(reason: "FCM OAuth token exchange answered something unreadable", retryable: true)
        }
        let lifetime = max(0, token.expires_in ?? 3600)
        // Renew ahead of expiry (five minutes, as Google's libraries do; half the life of a short token) so a
        // send never carries a token that dies in flight.
        let margin = min(300, lifetime / 2)
        logger.debug("fcm access token issued", metadata: ["fcm_token_lifetime_s": "\(lifetime)"])
        return .init(value: token.access_token, renewAt: startedAt.addingTimeInterval(Double(lifetime - margin)))
    }

    // Only RFC 3986 unreserved characters stay: the grant type's colons are escaped as Google's examples do.
    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    private static func formEscape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    /// An OAuth error code is a short token such as `invalid_grant`; anything else is not repeated.
    static func safeCode(_ code: String?) -> String? {
        guard let code, !code.isEmpty, code.count <= 64, code.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
        else { return nil }
        return code
    }
}
