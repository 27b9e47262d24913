import Foundation
import PostgresNIO
import TalktimeTestSupport
import Testing

@testable import TalktimeCore

/// Failed logins per account: free at first, then growing delays, then a cap of 100 an hour.
@Suite struct LoginThrottleTests {
    let logger = TestPostgres.logger

    @Test func delaysGrowAndTheCapHoldsUntilTheWindowEnds() async throws {
        try await TestPostgres.withAppDatabase { database in
            let throttle = LoginThrottle(database: database, settings: LoginThrottle.Settings())
            let key = LoginThrottle.accountKey(licenseeID: UUID(), email: "victim@example.com")
            let start = Date(timeIntervalSince1970: 1_900_000_000)
            var delays: [Duration] = []
            for failure in 0..<100 {
                delays.append(try await throttle.admit(accountKey: key, now: start.addingTimeInterval(Double(failure)), logger: logger))
                try await throttle.recordFailure(accountKey: key, now: start.addingTimeInterval(Double(failure)), logger: logger)
            }
            #expect(delays.prefix(3).allSatisfy { $0 == .zero })
            #expect(delays[3] == .milliseconds(250))
            #expect(delays[4] == .milliseconds(500))
            #expect(delays[5] == .seconds(1))
            #expect(delays.last == .seconds(8))
            // The 101st attempt within the hour is refused, whatever the password.
            let refused = await #expect(throws: IdentityError.self) {
                try await throttle.admit(accountKey: key, now: start.addingTimeInterval(600), logger: logger)
            }
            #expect(refused == .tooManyFailedLogins(retryAfterSeconds: 3000))
            // An hour after the first failure the window starts afresh.
            #expect(try await throttle.admit(accountKey: key, now: start.addingTimeInterval(3601), logger: logger) == .zero)
            // A success clears the count.
            try await throttle.recordSuccess(accountKey: key, logger: logger)
            #expect(try await throttle.admit(accountKey: key, now: start.addingTimeInterval(601), logger: logger) == .zero)
        }
    }

    @Test func keysHideTheEmailAndSeparateLicensees() {
        let licensee = UUID()
        let key = LoginThrottle.accountKey(licenseeID: licensee, email: "Someone@Example.com")
        #expect(key == LoginThrottle.accountKey(licenseeID: licensee, email: "someone@example.com"))
        #expect(key != LoginThrottle.accountKey(licenseeID: UUID(), email: "someone@example.com"))
        #expect(key != LoginThrottle.accountKey(licenseeID: nil, email: "someone@example.com"))
        #expect(!key.contains("someone"))
    }
}
