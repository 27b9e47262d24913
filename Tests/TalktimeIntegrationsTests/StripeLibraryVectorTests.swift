import Crypto
import Foundation
import Testing

@testable import TalktimeIntegrations

/// Signatures made by Stripe's own Python library, so the verifier is checked against Stripe's code rather than
/// against our signer, which could share a misreading of the documentation.
///
/// Produced once, offline, with `pip install stripe==16.1.0` in a virtual environment:
///
///     from stripe import WebhookSignature as W
///     W.generate_signature_header(body, "whsec_talktime_vector_current_2026", timestamp=1767225600)
///     W.generate_signature_header(body, "whsec_talktime_vector_retired_2025", timestamp=1767225600)
///     hashlib.sha256(body.encode()).hexdigest()
///
/// where `body` is `vectorBody` below: pretty-printed with newlines and non-ASCII text, as Stripe sends it, so the
/// signature covers the raw bytes, not a re-encoding of the JSON.
@Suite struct StripeLibraryVectorTests {
    static let vectorBody = Array(
        [
            "{",
            "  \"id\": \"evt_1Q0vector\",",
            "  \"object\": \"event\",",
            "  \"api_version\": \"2024-06-20\",",
            "  \"created\": 1767225600,",
            "  \"data\": {",
            "    \"object\": {",
            "      \"id\": \"pi_3Q0vector\",",
            "      \"object\": \"payment_intent\",",
            "      \"amount_received\": 1250,",
            "      \"currency\": \"eur\",",
            "      \"metadata\": {",
            "        \"note\": \"caf\u{e9} & cr\u{e8}me = 5\u{20ac}\"",
            "      }",
            "    }",
            "  },",
            "  \"livemode\": false,",
            "  \"type\": \"payment_intent.succeeded\"",
            "}",
        ].joined(separator: "\n").utf8)
    static let vectorBodySHA256 = "b7c5e4a5338edad518f425d12320a2b848cbb7689f86233c2b25578d6686abc7"
    static let current = "whsec_talktime_vector_current_2026"
    static let retired = "whsec_talktime_vector_retired_2025"
    static let currentSignature = "e4ae6c3cb78c71bc5989f524999ae56339f148da19ccbb1bfe40abf0f4fc4d60"
    static let retiredSignature = "e7582eff5539eaf2ed6debecb63e50377ce3d25bf09068dd714539c09689905e"
    static let signedAt = Date(timeIntervalSince1970: 1_767_225_600)

    @Test func theBodyIsByteForByteTheOneTheLibrarySigned() {
        #expect(Self.vectorBody.count == 388)
        #expect(SHA256.hash(data: Self.vectorBody).map { String(format: "%02x", $0) }.joined() == Self.vectorBodySHA256)
    }

    @Test func eachLibrarySignatureVerifiesWithItsSecret() throws {
        for (secret, signature) in [(Self.current, Self.currentSignature), (Self.retired, Self.retiredSignature)] {
            try StripeWebhookVerifier(secrets: [secret])
                .verify(payload: Self.vectorBody, signatureHeader: "t=1767225600,v1=\(signature)", now: Self.signedAt + 299)
        }
    }

    @Test func duringARollTheHeaderWithBothSignaturesVerifiesWithEitherSecret() throws {
        let header = "t=1767225600,v1=\(Self.retiredSignature),v1=\(Self.currentSignature)"
        for secrets in [[Self.current], [Self.retired], ["whsec_unrelated_0000000000", Self.current]] {
            try StripeWebhookVerifier(secrets: secrets).verify(payload: Self.vectorBody, signatureHeader: header, now: Self.signedAt)
        }
        #expect(throws: StripeWebhookError.noMatchingSignature) {
            try StripeWebhookVerifier(secrets: ["whsec_unrelated_0000000000"])
                .verify(payload: Self.vectorBody, signatureHeader: header, now: Self.signedAt)
        }
    }

    @Test func theLibrarySignatureFailsForAnotherTimestampSecretOrBody() {
        let verifier = StripeWebhookVerifier(secrets: [Self.current])
        #expect(throws: StripeWebhookError.noMatchingSignature) {
            try verifier.verify(payload: Self.vectorBody, signatureHeader: "t=1767225601,v1=\(Self.currentSignature)", now: Self.signedAt)
        }
        #expect(throws: StripeWebhookError.noMatchingSignature) {
            try StripeWebhookVerifier(secrets: [Self.current + " "])
                .verify(payload: Self.vectorBody, signatureHeader: "t=1767225600,v1=\(Self.currentSignature)", now: Self.signedAt)
        }
        // The same JSON compacted: equal to a parser, not to the signature.
        let compacted = Array(String(decoding: Self.vectorBody, as: UTF8.self).replacingOccurrences(of: "\n", with: "").utf8)
        #expect(throws: StripeWebhookError.noMatchingSignature) {
            try verifier.verify(payload: compacted, signatureHeader: "t=1767225600,v1=\(Self.currentSignature)", now: Self.signedAt)
        }
        #expect(throws: StripeWebhookError.timestampOutsideTolerance) {
            try verifier.verify(payload: Self.vectorBody, signatureHeader: "t=1767225600,v1=\(Self.currentSignature)", now: Self.signedAt + 301)
        }
    }

    @Test func theVerifiedBodyDecodesToTheSucceededPayment() throws {
        let envelope = try StripeEventDecoder.decode(Self.vectorBody)
        #expect(envelope.id == "evt_1Q0vector")
        #expect(envelope.created == Self.signedAt)
        #expect(envelope.event == .paymentSucceeded(paymentID: "pi_3Q0vector", amountReceived: 1_250, currency: "EUR"))
    }
}
