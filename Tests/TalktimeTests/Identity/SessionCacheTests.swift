import Foundation
import Hummingbird
import HummingbirdTesting
import TalktimeCore
import TalktimeTestSupport
import Testing

@testable import Talktime

/// Servers remember that an access token stands (`SessionValidityCache`); these tests try to make one accept a
/// token after it was revoked: on another server, with the notification connection cut, right after the change.
@Suite struct SessionCacheTests {
    @Test func aRevocationOnOneServerReachesTheOtherAtOnce() async throws {
        try await IdentityWorld.run { world in
            let second = try await buildApplication(configuration: try makeConfiguration([:], database: world.database), logger: TestPostgres.logger)
            try await second.testShuttingDownInOrder(.router) { client in
                let other = TestHTTP(client: client)
                try await world.waitForListeners(2)
                let user = try await world.id(of: world.alpha.endUserToken)
                let token = world.alpha.endUserToken
                #expect(try await other.send(.get, "/v1/me", token: token).status == .ok)

                // Changed under the servers' feet with PostgreSQL's triggers off for once: the other server keeps
                // answering from memory, which shows the answer above was remembered...
                try await world.withoutNotifications("UPDATE users SET display_name = 'Renamed quietly' WHERE id = '\(user)'")
                #expect(try await other.send(.get, "/v1/me", token: token).string("display_name") == "alpha user")

                // ...and a block through the first server still reaches it, by notification, within moments.
                let blocked = try await world.http.send(.post, "/v1/admin/users/\(user)/block", token: world.alpha.adminToken)
                #expect(blocked.status == .noContent)
                try await eventually("the other server refuses the blocked user's token", within: .seconds(5)) {
                    try await other.send(.get, "/v1/me", token: token).status == .unauthorized
                }
                // The blocking server itself refuses at once.
                #expect(try await world.http.send(.get, "/v1/me", token: token).status == .unauthorized)

                // The other way round: a logout-all on the second server ends the Advisor's token on the first.
                let advisor = world.alpha.advisorToken
                #expect(try await world.http.send(.get, "/v1/me", token: advisor).status == .ok)
                #expect(try await other.send(.post, "/v1/auth/logout-all", token: advisor).status == .noContent)
                #expect(try await other.send(.get, "/v1/me", token: advisor).status == .unauthorized)
                try await eventually("the first server refuses the Advisor's token", within: .seconds(5)) {
                    try await world.http.send(.get, "/v1/me", token: advisor).status == .unauthorized
                }
            }
        }
    }

    @Test func theServerThatRevokesRefusesTheVeryNextRequest() async throws {
        try await IdentityWorld.run { world in
            try await world.waitForListeners(1)
            for round in 0..<5 {
                let token = try await world.logIn(world.alpha.endUserEmail, licensee: "alpha")
                #expect(try await world.http.send(.get, "/v1/me", token: token).status == .ok)
                #expect(try await world.http.send(.post, "/v1/auth/logout", token: token).status == .noContent)
                #expect(try await world.http.send(.get, "/v1/me", token: token).status == .unauthorized, "round \(round)")
            }
            // A profile edit is seen at once too: the name in a remembered answer is not served stale.
            let token = try await world.logIn(world.alpha.endUserEmail, licensee: "alpha")
            #expect(try await world.http.send(.get, "/v1/me", token: token).string("display_name") == "alpha user")
            #expect(try await world.http.send(.patch, "/v1/me", json: ["display_name": "Alpha Renamed"], token: token).status == .ok)
            #expect(try await world.http.send(.get, "/v1/me", token: token).string("display_name") == "Alpha Renamed")
        }
    }

    @Test func aLostNotificationConnectionForgetsEverythingRemembered() async throws {
        try await IdentityWorld.run { world in
            try await world.waitForListeners(1)
            let token = world.alpha.endUserToken
            let user = try await world.id(of: token)
            #expect(try await world.http.send(.get, "/v1/me", token: token).status == .ok)
            let listener = try await world.superuser(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = '\(SessionChangeListener.applicationName)'"
            ).first!.decode(Int32.self)

            // The connection is cut, and the user blocked in a way that sends no notification at all (as if it
            // had been sent while the connection was down).
            _ = try await world.superuser("SELECT pg_terminate_backend(\(listener))")
            try await world.withoutNotifications("UPDATE users SET status = 'blocked' WHERE id = '\(user)'")
            // Once it is back, nothing from before it was cut is trusted (in between, nothing is remembered).
            try await eventually("the listener reconnects", within: .seconds(10)) {
                let pids = try await world.superuser(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = '\(SessionChangeListener.applicationName)'"
                ).map { try $0.decode(Int32.self) }
                return pids.count == 1 && pids[0] != listener
            }
            #expect(try await world.http.send(.get, "/v1/me", token: token).status == .unauthorized)
        }
    }

    @Test func withNoLifetimeEveryRequestAsksTheDatabase() async throws {
        try await IdentityWorld.run(["SESSION_CACHE_SECONDS": "0"]) { world in
            let token = world.alpha.endUserToken
            let user = try await world.id(of: token)
            #expect(try await world.http.send(.get, "/v1/me", token: token).status == .ok)
            try await world.withoutNotifications("UPDATE users SET status = 'blocked' WHERE id = '\(user)'")
            #expect(try await world.http.send(.get, "/v1/me", token: token).status == .unauthorized)
            let listeners = try await world.superuser(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = '\(SessionChangeListener.applicationName)'"
            )
            #expect(try listeners.first!.decode(Int.self) == 0)
        }
    }
}

extension IdentityWorld {
    /// Waits until `count` servers listen for session changes: until then they remember nothing.
    func waitForListeners(_ count: Int) async throws {
        try await eventually("\(count) session listeners are connected", within: .seconds(10)) {
            let rows = try await superuser(
                """
                SELECT count(*) FROM pg_stat_activity
                WHERE datname = current_database() AND application_name = '\(SessionChangeListener.applicationName)' AND state = 'idle'
                """)
            return try rows.first!.decode(Int.self) == count
        }
    }

    /// Runs one statement as the superuser with triggers off, so PostgreSQL tells no server about it.
    func withoutNotifications(_ statement: String) async throws {
        _ = try await superuser("DO $$ BEGIN SET LOCAL session_replication_role = replica; \(statement); END $$")
    }

}
