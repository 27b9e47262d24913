import Foundation
import Testing

@testable import TalktimeSecurity

/// Sealing secrets at rest, and every way a sealed value should fail to open.
@Suite struct SecretBoxTests {
    static let current = Array(repeating: UInt8(7), count: 32)
    static let retired = Array(repeating: UInt8(9), count: 32)
    let box = try! SecretBox(currentKeyID: "k2", keys: ["k2": current, "k1": retired])

    @Test func opensWhatItSealedForTheSameContext() throws {
        let sealed = try box.seal("a secret of the licensee", context: "livekit:A")
        #expect(sealed.hasPrefix("k2:"))
        #expect(!sealed.contains("a secret"))
        #expect(try box.open(sealed, context: "livekit:A") == "a secret of the licensee")
    }

    @Test func everySealIsDifferent() throws {
        let seals = try Set((0..<200).map { _ in try box.seal("same", context: "c") })
        #expect(seals.count == 200)
    }

    @Test func anotherContextDoesNotOpen() throws {
        let sealed = try box.seal("secret", context: "livekit:A")
        #expect(throws: SecretBox.Failure.cannotOpen) { try box.open(sealed, context: "livekit:B") }
        #expect(throws: SecretBox.Failure.cannotOpen) { try box.open(sealed, context: "") }
    }

    @Test func anyAlteredByteDoesNotOpen() throws {
        let sealed = try box.seal("secret", context: "c")
        let colon = sealed.firstIndex(of: ":")!
        let bytes = Array(Data(base64Encoded: String(sealed[sealed.index(after: colon)...]))!)
        for index in bytes.indices {
            var altered = bytes
            altered[index] ^= 0x01
            let forged = "k2:" + Data(altered).base64EncodedString()
            #expect(throws: SecretBox.Failure.cannotOpen) { try box.open(forged, context: "c") }
        }
        // Cut short, lengthened, or without its tag.
        for forged in [
            "k2:" + Data(bytes.dropLast()).base64EncodedString(), "k2:" + Data(bytes + [0]).base64EncodedString(),
            "k2:" + Data(bytes.prefix(12)).base64EncodedString(),
        ] {
            #expect(throws: SecretBox.Failure.cannotOpen) { try box.open(forged, context: "c") }
        }
    }

    @Test func malformedValuesAndUnknownKeysDoNotOpen() throws {
        let sealed = try box.seal("secret", context: "c")
        let body = sealed.dropFirst(3)
        for forged in ["", ":", "k2", "k2:", "k2:not base64!", "k3:" + body, "K2:" + body, "k2" + body, String(body)] {
            #expect(throws: SecretBox.Failure.cannotOpen) { try box.open(forged, context: "c") }
        }
    }

    @Test func aRetiredKeyStillOpensWhatItSealed() throws {
        let old = try SecretBox(currentKeyID: "k1", keys: ["k1": Self.retired])
        let sealed = try old.seal("from before the rotation", context: "c")
        #expect(try box.open(sealed, context: "c") == "from before the rotation")
        // Without the retired key it is lost, not opened with the wrong one.
        let rotatedOut = try SecretBox(currentKeyID: "k2", keys: ["k2": Self.current])
        #expect(throws: SecretBox.Failure.cannotOpen) { try rotatedOut.open(sealed, context: "c") }
        // A key id that names the wrong key does not open either.
        let relabelled = "k2" + sealed.dropFirst(2)
        #expect(throws: SecretBox.Failure.cannotOpen) { try box.open(relabelled, context: "c") }
    }

    @Test func refusesWeakKeysAndAmbiguousIDs() {
        #expect(throws: SecretBox.Failure.invalidKey) { try SecretBox(currentKeyID: "k", keys: ["k": Array(repeating: 1, count: 16)]) }
        #expect(throws: SecretBox.Failure.invalidKey) { try SecretBox(currentKeyID: "k", keys: ["other": Self.current]) }
        #expect(throws: SecretBox.Failure.invalidKey) { try SecretBox(currentKeyID: "k", keys: ["k": Self.current, "a:b": Self.retired]) }
        for id in ["", "a:b", "a b", String(repeating: "a", count: 65), "ключ"] { #expect(!SecretBox.isValidKeyID(id)) }
        for id in ["primary", "2026-12_a", String(repeating: "a", count: 64)] { #expect(SecretBox.isValidKeyID(id)) }
    }
}
