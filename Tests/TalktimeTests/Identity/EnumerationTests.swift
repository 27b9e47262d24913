import Foundation
import Hummingbird
import Testing

@testable import Talktime

/// An unknown email and a wrong password must be indistinguishable: same status, same body, same time.
/// A test of the mechanism (the dummy hash, the shared throttle path) with generous bounds, not a benchmark.
@Suite struct EnumerationTests {
    @Test func unknownEmailAndWrongPasswordLookAlike() async throws {
        // A real cost, so that the hash dominates each login as it does in production.
        // Served over a socket behind a "trusted proxy" (the test itself), so that each attempt can come from its
        // own client address and accounts can be spread out: the rate limits must not answer instead.
        try await IdentityWorld.run(["BCRYPT_COST": "10", "TRUSTED_PROXIES": "127.0.0.1,::1"], transport: .live) { world in
            func attempt(_ email: String, from address: String) async throws -> (TestHTTP.Reply, Duration) {
                let start = ContinuousClock.now
                let reply = try await world.http.send(
                    .post, "/v1/auth/login", json: ["email": email, "password": "definitely wrong"], licensee: "alpha",
                    headers: [.requestID: "enumeration", .xForwardedFor: address])
                return (reply, ContinuousClock.now - start)
            }
            var known: [String] = []
            for index in 0..<10 {
                let email = "known\(index)@alpha.example"
                let registered = try await world.http.send(
                    .post, "/v1/auth/register", json: ["email": email, "password": IdentityWorld.password, "display_name": "k"], licensee: "alpha",
                    headers: [.xForwardedFor: "192.0.2.\(index)"])
                #expect(registered.status == .created)
                known.append(email)
            }
            var knownTimes: [Duration] = []
            var unknownTimes: [Duration] = []
            var firstKnown: TestHTTP.Reply?
            var firstUnknown: TestHTTP.Reply?
            for index in 0..<50 {
                let (wrong, wrongTime) = try await attempt(known[index % 10], from: "198.51.100.\(index)")
                let (unknown, unknownTime) = try await attempt("nobody\(index % 10)@alpha.example", from: "203.0.113.\(index)")
                #expect(wrong.status == .unauthorized && unknown.status == .unauthorized)
                #expect(wrong.body == unknown.body)
                firstKnown = firstKnown ?? wrong
                firstUnknown = firstUnknown ?? unknown
                knownTimes.append(wrongTime)
                unknownTimes.append(unknownTime)
            }
            #expect(firstKnown?.string("type") == ProblemType.invalidCredentials)
            #expect(firstKnown?.body == firstUnknown?.body)
            let knownMedian = knownTimes.sorted()[25]
            let unknownMedian = unknownTimes.sorted()[25]
            let ratio =
                Double(knownMedian.components.attoseconds + knownMedian.components.seconds * 1_000_000_000_000_000_000)
                / Double(unknownMedian.components.attoseconds + unknownMedian.components.seconds * 1_000_000_000_000_000_000)
            print("login medians: wrong password \(knownMedian), unknown email \(unknownMedian), ratio \(ratio)")
            #expect(abs(ratio - 1) < 0.10, "wrong password \(knownMedian) vs unknown email \(unknownMedian)")
        }
    }
}
