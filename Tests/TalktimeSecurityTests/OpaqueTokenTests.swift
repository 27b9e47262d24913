import Foundation
import Testing

@testable import TalktimeSecurity

@Suite struct OpaqueTokenTests {
    @Test func carriesItsLicenseeAndParsesBack() throws {
        let licensee = UUID()
        let token = OpaqueToken.generate(prefix: "rt", licenseeID: licensee)
        #expect(token.value.hasPrefix("rt_"))
        let parsed = try #require(OpaqueToken(parsing: token.value, prefix: "rt"))
        #expect(parsed.licenseeID == licensee)
        #expect(parsed.hash == token.hash)
        #expect(token.hash.count == 32)
    }

    @Test func platformTokensCarryNoLicensee() throws {
        let token = OpaqueToken.generate(prefix: "rt", licenseeID: nil)
        #expect(try #require(OpaqueToken(parsing: token.value, prefix: "rt")).licenseeID == nil)
    }

    @Test func everyTokenIsDifferent() {
        let values = Set((0..<1000).map { _ in OpaqueToken.generate(prefix: "rt", licenseeID: nil).value })
        #expect(values.count == 1000)
    }

    @Test func refusesOtherShapes() {
        let token = OpaqueToken.generate(prefix: "rt", licenseeID: UUID()).value
        for attempt in [
            String(token.dropLast()), "inv" + token.dropFirst(2), token + "A", "rt_", "rt_!!!!", token.replacingOccurrences(of: "_", with: "-"),
        ] {
            #expect(OpaqueToken(parsing: attempt, prefix: "rt") == nil, "\(attempt)")
        }
    }
}
