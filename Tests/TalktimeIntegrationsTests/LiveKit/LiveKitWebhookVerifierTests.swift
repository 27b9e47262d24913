import Crypto
import Foundation
import JWTKit
import Logging
import TalktimeCore
import TalktimeSecurity
import TalktimeTestSupport
import Testing

@testable import TalktimeIntegrations

/// Webhook verification, attacked: only a token signed with the secret of a known key, in date, whose `sha256`
/// matches the exact body, gets through.
@Suite struct LiveKitWebhookVerifierTests {
    let logger = Logger(label: "test")
    let key = "APIhooks"
    let secret = "webhook-secret-0123456789abcdef-0123456789"
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    var verifier: LiveKitWebhookVerifier {
        let (key, secret, now) = (key, secret, now)
        return LiveKitWebhookVerifier(secret: { apiKey, _ in apiKey == key ? secret : nil }, now: { now })
    }

    func token(
        for body: String, secret: String? = nil, key: String? = nil, issuedAt: Date? = nil, lifetime: TimeInterval = 300,
        hash: String?? = nil
    ) async throws -> String {
        let issuedAt = issuedAt ?? now
        let claims = LiveKitClaims(
            iss: .init(value: key ?? self.key), sub: nil, nbf: .init(value: issuedAt), exp: .init(value: issuedAt.addingTimeInterval(lifetime)),
            name: nil, video: nil, sha256: hash ?? Data(SHA256.hash(data: Data(body.utf8))).base64EncodedString())
        return try await LiveKitTokenSigner.sign(claims, secret: secret ?? self.secret)
    }

    let left = FakeLiveKit.webhookBody(
        event: "participant_left", id: "EV_1", room: "call-9", participant: "user-3", createdAt: Date(timeIntervalSince1970: 1_800_000_000))

    @Test func aGenuineDeliveryIsDecoded() async throws {
        let verified = try await verifier.verify(body: Array(left.utf8), authorization: try await token(for: left), logger: logger)
        #expect(verified.apiKey == key)
        #expect(
            verified.event
                == CallRoomEvent(
                    id: "EV_1", kind: .participantLeft, roomName: "call-9", participantIdentity: "user-3",
                    participantSession: "PA_user-3", createdAt: Date(timeIntervalSince1970: 1_800_000_000)))
        // With a `Bearer ` prefix too.
        _ = try await verifier.verify(body: Array(left.utf8), authorization: "Bearer " + (try await token(for: left)), logger: logger)
    }

    @Test func aDepartedSessionAndWhetherItWasReplacedAreRead() async throws {
        func event(_ body: String) async throws -> CallRoomEvent {
            try await verifier.verify(body: Array(body.utf8), authorization: try await token(for: body), logger: logger).event
        }
        // livekit-server's protobuf JSON names the reason; other producers may give its number and protobuf names.
        for (reason, replaced) in [
            ("\"DUPLICATE_IDENTITY\"", true), ("\"MIGRATION\"", true), ("2", true), ("8", true), ("\"CLIENT_INITIATED\"", false),
            ("1", false), ("\"ROOM_DELETED\"", false), ("null", false), ("{}", false),
        ] {
            for name in ["disconnectReason", "disconnect_reason"] {
                let body =
                    #"{"event":"participant_left","id":"EV_r","room":{"name":"r"},"participant":{"sid":"PA_9","identity":"u","\#(name)":\#(reason)}}"#
                let decoded = try await event(body)
                #expect(decoded.sessionReplaced == replaced, "\(name): \(reason)")
                #expect(decoded.participantSession == "PA_9" && decoded.participantIdentity == "u")
            }
        }
        let bare = try await event(#"{"event":"participant_left","id":"EV_b","room":{"name":"r"},"participant":{"identity":"u","sid":""}}"#)
        #expect(bare.participantSession == nil && !bare.sessionReplaced)
    }

    @Test func eventKindsAndProtobufNames() async throws {
        for (event, kind) in [
            ("participant_joined", CallRoomEvent.Kind.participantJoined), ("room_finished", .roomFinished),
            ("track_published", .other("track_published")),
        ] {
            let body = FakeLiveKit.webhookBody(event: event, id: "EV_\(event)", room: "call-9", participant: "user-3")
            #expect(try await verifier.verify(body: Array(body.utf8), authorization: try await token(for: body), logger: logger).event.kind == kind)
        }
        let snake = #"{"event":"room_finished","id":"EV_2","room":{"name":"call-9"},"created_at":1800000001}"#
        let event = try await verifier.verify(body: Array(snake.utf8), authorization: try await token(for: snake), logger: logger).event
        #expect(event.createdAt == Date(timeIntervalSince1970: 1_800_000_001))
    }

    @Test func forgedExpiredAndMismatchedDeliveriesAreRefused() async throws {
        let body = Array(left.utf8)
        func refusal(_ authorization: String?, body: [UInt8]? = nil) async -> LiveKitWebhookVerifier.Failure? {
            do {
                _ = try await verifier.verify(body: body ?? Array(left.utf8), authorization: authorization, logger: logger)
                return nil
            } catch {
                return error as? LiveKitWebhookVerifier.Failure
            }
        }
        #expect(await refusal(nil) == .missingAuthorization)
        #expect(await refusal("") == .missingAuthorization)
        #expect(await refusal("not a token") == .token("malformed"))
        #expect(await refusal(try await token(for: left, secret: "a-forger-guessing-the-secret-0123456789")) == .token("badSignature"))
        #expect(await refusal(try await token(for: left, key: "APIother")) == .unknownKey)
        #expect(await refusal(try await token(for: left, issuedAt: now.addingTimeInterval(-400))) == .token("expired"))
        #expect(await refusal(try await token(for: left, issuedAt: now.addingTimeInterval(120))) == .token("notYetValid"))
        #expect(await refusal(try await token(for: left, hash: .some(nil))) == .missingBodyHash)
        let mutated = left.replacingOccurrences(of: "participant_left", with: "room_finished")
        #expect(await refusal(try await token(for: left), body: Array(mutated.utf8)) == .bodyMismatch)
        #expect(await refusal(try await token(for: left) + "x") == .token("badSignature"))
        _ = body
    }

    @Test func otherAlgorithmsAreNeverTried() async throws {
        let valid = try await token(for: left)
        let parts = valid.split(separator: ".")
        for alg in ["none", "HS512", "RS256", "EdDSA"] {
            let header = Base64URL.encode(Array(#"{"alg":"\#(alg)","typ":"JWT"}"#.utf8))
            for signature in ["", String(parts[2])] {
                let forged = "\(header).\(parts[1]).\(signature)"
                await #expect(throws: LiveKitWebhookVerifier.Failure.token("algorithmNotAllowed")) {
                    try await verifier.verify(body: Array(left.utf8), authorization: forged, logger: logger)
                }
            }
        }
    }

    @Test func aSignedBodyThatIsNotAnEventIsRefused() async throws {
        for body in ["{}", "[]", #"{"event":"participant_left","id":"EV_3","room":{"name":"r"}}"#, "not json"] {
            await #expect(throws: LiveKitWebhookVerifier.Failure.unreadableEvent) {
                try await verifier.verify(body: Array(body.utf8), authorization: try await token(for: body), logger: logger)
            }
        }
    }
}
