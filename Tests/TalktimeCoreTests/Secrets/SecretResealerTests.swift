import Foundation
import PostgresNIO
import TalktimeSecurity
import TalktimeTestSupport
import Testing

@testable import TalktimeCore

/// A key rotation: secrets sealed under the retired key are sealed again under the new one, after which the old
/// key is no longer needed; what no key opens is counted and left alone.
@Suite struct SecretResealerTests {
    let logger = TestPostgres.logger
    static let old = Array(repeating: UInt8(1), count: 32)
    static let new = Array(repeating: UInt8(2), count: 32)

    @Test func secretsUnderARetiredKeyAreSealedAgainUnderTheCurrentOne() async throws {
        try await TestPostgres.withAppDatabase { database in
            let before = try SecretBox(currentKeyID: "old", keys: ["old": Self.old])
            let lost = try SecretBox(currentKeyID: "lost", keys: ["lost": Array(repeating: 3, count: 32)])
            // Three Licensees' projects: two sealed under the old key, one under a key nobody has any more.
            var licensees: [UUID] = []
            for (n, box) in [before, before, lost].enumerated() {
                let id = try await database.withTransaction(.platform, logger: logger) { connection in
                    let id = try await connection.query(
                        "INSERT INTO licensees (slug, name, app_name, currency) VALUES (\("l\(n)"), 'L', 'L', 'EUR') RETURNING id", logger: logger
                    ).collect().first!.decode(UUID.self)
                    let sealed = try LicenseeSecrets(box: box, purpose: .liveKitAPISecret).seal("secret number \(n) of 32 characters", for: id)
                    try await connection.query(
                        """
                        INSERT INTO licensee_livekit_accounts (licensee_id, server_url, api_key, api_secret_sealed)
                        VALUES (\(id), 'wss://l.livekit.cloud', \("APIl\(n)"), \(sealed))
                        """, logger: logger)
                    return id
                }
                licensees.append(id)
            }

            let rotated = try SecretBox(currentKeyID: "new", keys: ["new": Self.new, "old": Self.old])
            let resealer = SecretResealer(database: database, box: rotated)
            #expect(try await resealer.run(logger: logger) == .init(resealed: 2, current: 0, unreadable: 1))
            // Again: nothing left to do but the one no key opens.
            #expect(try await resealer.run(logger: logger) == .init(resealed: 0, current: 2, unreadable: 1))

            // The old key dropped, both still open, with the secret they had.
            let after = try SecretBox(currentKeyID: "new", keys: ["new": Self.new])
            let accounts = LicenseeCallRoomAccounts(database: database, secrets: after, platform: nil, allowedHosts: [])
            for n in 0..<2 {
                let account = try await accounts.credentials(forLicensee: licensees[n], logger: logger)
                #expect(account?.apiSecret == "secret number \(n) of 32 characters")
            }
            let untouched = try await database.withTransaction(.platform, logger: logger) { connection in
                try await connection.query(
                    "SELECT api_secret_sealed FROM licensee_livekit_accounts WHERE licensee_id = \(licensees[2])", logger: logger
                ).collect().first!.decode(String.self)
            }
            #expect(untouched.hasPrefix("lost:"))
        }
    }
}
