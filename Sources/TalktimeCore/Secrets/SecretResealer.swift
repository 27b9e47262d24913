import Foundation
import Logging
import PostgresNIO
import TalktimeSecurity

/// Seals every secret Licensees keep with the service again under the current secrets key, so that a retired
/// key can be dropped from `SECRETS_RETIRED_KEYS` once this has run (`talktime secrets reseal`).
public struct SecretResealer: Sendable {
    /// What one run did.
    public struct Outcome: Sendable, Equatable {
        /// Sealed again under the current key.
        public var resealed = 0
        /// Already under the current key.
        public var current = 0
        /// Not opened by any configured key (left as they are; their admins must set them again).
        public var unreadable = 0
    }

    let database: Database
    let box: SecretBox

    public init(database: Database, box: SecretBox) {
        self.database = database
        self.box = box
    }

    /// One transaction a table column, its rows locked while they are sealed again.
    public func run(logger: Logger) async throws -> Outcome {
        var outcome = Outcome()
        for purpose in LicenseeSecrets.Purpose.allCases {
            let secrets = LicenseeSecrets(box: box, purpose: purpose)
            for (table, column) in purpose.columns {
                try await database.withTransaction(.platform, logger: logger) { connection in
                    let rows = try await connection.query(
                        "SELECT licensee_id, \(unescaped: column) FROM \(unescaped: table) WHERE \(unescaped: column) IS NOT NULL FOR UPDATE",
                        logger: logger
                    ).collect().map { try $0.decode((UUID, String).self) }
                    for (licenseeID, sealed) in rows {
                        if box.isSealedWithCurrentKey(sealed) {
                            outcome.current += 1
                        } else if let secret = secrets.open(sealed, of: licenseeID, logger: logger) {
                            let resealed = try secrets.seal(secret, for: licenseeID)
                            try await connection.query(
                                "UPDATE \(unescaped: table) SET \(unescaped: column) = \(resealed) WHERE licensee_id = \(licenseeID)", logger: logger)
                            outcome.resealed += 1
                        } else {
                            outcome.unreadable += 1
                        }
                    }
                }
            }
        }
        return outcome
    }
}
