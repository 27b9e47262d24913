import Foundation
import TalktimeTestSupport
import Testing

@testable import TalktimeIntegrations

/// The webhook signature check, attacked: forged, mutated, stale, replayed from the future, malformed.
@Suite struct StripeWebhookVerifierTests {
    let secret = "whsec_test_secret_talktime_0001"
    let now = Date(timeIntervalSince1970: 1_767_225_600)
    let body = Array(#"{"id":"evt_1","object":"event","type":"payment_intent.succeeded"}"#.utf8)

    var verifier: StripeWebhookVerifier { StripeWebhookVerifier(secrets: [secret]) }

    @Test func aSignatureMadeByTheOfficialStripeLibraryVerifies() throws {
        // Made once with the `stripe` Python package 16.1.0:
        //   WebhookSignature._compute_signature(f"{1767225600}.{payload}", "whsec_vector_secret_for_talktime_tests")
        let payload = Array(#"{"id":"evt_vector","object":"event","type":"payment_intent.succeeded"}"#.utf8)
        let header = "t=1767225600,v1=869007753bbaaeceecf2bb7bdf0f3f6c99af87913f47cedb04d040082d41b203"
        try StripeWebhookVerifier(secrets: ["whsec_vector_secret_for_talktime_tests"])
            .verify(payload: payload, signatureHeader: header, now: Date(timeIntervalSince1970: 1_767_225_700))
    }

    @Test func aGenuineSignatureVerifiesAmongOthers() throws {
        try verifier.verify(payload: body, signatureHeader: StripeWebhookSigner.header(for: body, secrets: [secret], timestamp: now), now: now)
        // Two v1 (one from a retired secret) and a v0: the matching v1 is enough.
        let header = StripeWebhookSigner.header(for: body, secrets: ["whsec_retired_secret_000000", secret], timestamp: now, v0: true)
        try verifier.verify(payload: body, signatureHeader: header, now: now)
    }

    @Test func duringARotationEitherSecretVerifies() throws {
        let rotating = StripeWebhookVerifier(secrets: ["whsec_old_secret_0000000000", secret])
        for signing in ["whsec_old_secret_0000000000", secret] {
            try rotating.verify(payload: body, signatureHeader: StripeWebhookSigner.header(for: body, secrets: [signing], timestamp: now), now: now)
        }
    }

    @Test func everyForgeryIsRejected() {
        let genuine = StripeWebhookSigner.header(for: body, secrets: [secret], timestamp: now)
        var mutated = body
        mutated[10] ^= 0x01
        let cases: [(String, [UInt8], String?, Date, StripeWebhookError)] = [
            (
                "other secret", body, StripeWebhookSigner.header(for: body, secrets: ["whsec_attacker_000000000"], timestamp: now), now,
                .noMatchingSignature
            ),
            ("mutated body", mutated, genuine, now, .noMatchingSignature),
            ("trailing byte", body + [0x20], genuine, now, .noMatchingSignature),
            ("stale", body, StripeWebhookSigner.header(for: body, secrets: [secret], timestamp: now - 301), now, .timestampOutsideTolerance),
            ("future", body, StripeWebhookSigner.header(for: body, secrets: [secret], timestamp: now + 301), now, .timestampOutsideTolerance),
            ("missing", body, nil, now, .missingHeader),
            ("empty", body, "", now, .missingHeader),
            ("v0 only", body, "t=\(Int(now.timeIntervalSince1970)),v0=" + String(repeating: "ab", count: 32), now, .noMatchingSignature),
            ("no timestamp", body, genuine.split(separator: ",").dropFirst().joined(separator: ","), now, .malformedHeader),
            (
                "timestamp swapped", body,
                genuine.replacingOccurrences(of: "t=\(Int(now.timeIntervalSince1970))", with: "t=\(Int(now.timeIntervalSince1970) - 1)"), now,
                .noMatchingSignature
            ),
            ("two timestamps", body, genuine + ",t=1", now, .malformedHeader),
            ("truncated signature", body, String(genuine.dropLast(2)), now, .noMatchingSignature),
        ]
        for (name, payload, header, time, expected) in cases {
            #expect(throws: expected, "\(name)") { try verifier.verify(payload: payload, signatureHeader: header, now: time) }
        }
        #expect(throws: StripeWebhookError.noSecretConfigured) {
            try StripeWebhookVerifier(secrets: []).verify(payload: body, signatureHeader: genuine, now: now)
        }
    }

    @Test func randomHeadersNeverVerify() {
        var random = SeededGenerator(seed: SeededGenerator.seed(named: "randomHeadersNeverVerify"))
        let genuine = StripeWebhookSigner.header(for: body, secrets: [secret], timestamp: now)
        let alphabet = Array("t=v1v0,0123456789abcdefABCDEF =,;\u{0}é")
        for _ in 0..<500 {
            var header: String
            switch Int.random(in: 0..<3, using: &random) {
            case 0:
                header = String((0..<Int.random(in: 0..<120, using: &random)).map { _ in alphabet.randomElement(using: &random)! })
            case 1:
                // The genuine header with one character changed.
                var characters = Array(genuine)
                let index = Int.random(in: 0..<characters.count, using: &random)
                var replacement = alphabet.randomElement(using: &random)!
                while replacement == characters[index] { replacement = alphabet.randomElement(using: &random)! }
                characters[index] = replacement
                header = String(characters)
            default:
                header =
                    "t=\(Int(now.timeIntervalSince1970)),v1="
                    + (0..<64).map { _ in "0123456789abcdef".randomElement(using: &random)! }.map(String.init).joined()
            }
            let accepted = (try? verifier.verify(payload: body, signatureHeader: header, now: now)) != nil
            // A changed character may land in the v0 part or equal the original: only a genuine signature passes.
            if accepted {
                #expect(header.contains(genuine.split(separator: ",")[1]), "accepted \(header)")
            }
        }
    }

    @Test func theToleranceIsInclusiveEitherWay() throws {
        for offset: TimeInterval in [-300, -1, 0, 1, 300] {
            let header = StripeWebhookSigner.header(for: body, secrets: [secret], timestamp: now + offset)
            try verifier.verify(payload: body, signatureHeader: header, now: now)
        }
        let strict = StripeWebhookVerifier(secrets: [secret], tolerance: .seconds(10))
        #expect(throws: StripeWebhookError.timestampOutsideTolerance) {
            try strict.verify(
                payload: body, signatureHeader: StripeWebhookSigner.header(for: body, secrets: [secret], timestamp: now - 11), now: now)
        }
    }

    @Test func blankSecretsCountAsNone() {
        // HMAC with an empty key is a signature anyone can make.
        let emptyKeyHeader = StripeWebhookSigner.header(for: body, secrets: [""], timestamp: now)
        #expect(throws: StripeWebhookError.noSecretConfigured) {
            try StripeWebhookVerifier(secrets: ["", "  "]).verify(payload: body, signatureHeader: emptyKeyHeader, now: now)
        }
        #expect(throws: StripeWebhookError.noMatchingSignature) {
            try StripeWebhookVerifier(secrets: ["", secret]).verify(payload: body, signatureHeader: emptyKeyHeader, now: now)
        }
    }

    @Test func signaturesAreComparedAsStripeWritesThem() {
        // Upper-case hex is refused, as by Stripe's libraries, which compare the hex text.
        let genuine = StripeWebhookSigner.header(for: body, secrets: [secret], timestamp: now)
        let shouted = genuine.split(separator: ",").map { $0.hasPrefix("v1=") ? "v1=" + $0.dropFirst(3).uppercased() : String($0) }
        #expect(throws: StripeWebhookError.noMatchingSignature) {
            try verifier.verify(payload: body, signatureHeader: shouted.joined(separator: ","), now: now)
        }
        // A valid v1 under a non-numeric t is refused before any comparison.
        let text = genuine.replacingOccurrences(of: "t=\(Int(now.timeIntervalSince1970))", with: "t=now")
        #expect(throws: StripeWebhookError.malformedHeader) { try verifier.verify(payload: body, signatureHeader: text, now: now) }
        let bare = genuine + ",v1"
        #expect(throws: StripeWebhookError.malformedHeader) { try verifier.verify(payload: body, signatureHeader: bare, now: now) }
    }

    @Test func noMutatedBodyVerifies() {
        var random = SeededGenerator(seed: SeededGenerator.seed(named: "noMutatedBodyVerifies"))
        let header = StripeWebhookSigner.header(for: body, secrets: [secret], timestamp: now)
        for _ in 0..<300 {
            var mutated = body
            switch Int.random(in: 0..<3, using: &random) {
            case 0: mutated[Int.random(in: 0..<mutated.count, using: &random)] ^= 1 << UInt8.random(in: 0...7, using: &random)
            case 1: mutated.remove(at: Int.random(in: 0..<mutated.count, using: &random))
            default: mutated.insert(UInt8.random(in: 0...255, using: &random), at: Int.random(in: 0...mutated.count, using: &random))
            }
            #expect(throws: StripeWebhookError.noMatchingSignature) { try verifier.verify(payload: mutated, signatureHeader: header, now: now) }
        }
    }

    @Test func errorsNameTheCheckNeverTheSecret() {
        for error in [StripeWebhookError.missingHeader, .malformedHeader, .noSecretConfigured, .timestampOutsideTolerance, .noMatchingSignature] {
            #expect(!"\(error)".contains("whsec"))
        }
    }
}
