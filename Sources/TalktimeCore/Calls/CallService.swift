import Foundation
import Logging
import PostgresNIO

/// Starts, answers and ends calls, and hands out the tokens that let their participants into the room.
///
/// Every state change runs in one database transaction with the call row locked, so a call's requests, its room
/// events and the billing engine see one another's effects in order. Outside services (the media service, push)
/// are called after the commit, never while a row is locked.
public struct CallService: Sendable {
    let database: Database
    let rooms: any CallRoomProvider
    let credentials: any CallRoomCredentialStore
    let alerts: any IncomingCallAlerting
    let clock: any WallClock
    let settings: CallSettings

    public init(
        database: Database, rooms: any CallRoomProvider, credentials: any CallRoomCredentialStore, alerts: any IncomingCallAlerting,
        clock: any WallClock, settings: CallSettings
    ) {
        self.database = database
        self.rooms = rooms
        self.credentials = credentials
        self.alerts = alerts
        self.clock = clock
        self.settings = settings
    }

    /// An End User calls `advisorID`: checks the licence, the Advisor, the caller's other calls, the Licensee's
    /// concurrent-call limit and the wallet; creates the ringing call, its room and the caller's token; and
    /// alerts the Advisor's devices.
    public func start(advisorID: UUID, by caller: Principal, logger: Logger) async throws -> CallWithJoin {
        guard caller.role == .endUser, let licenseeID = caller.licenseeID else { throw CallError.advisorNotFound }
        guard let account = try await credentials.credentials(forLicensee: licenseeID, logger: logger) else {
            throw CallError.roomUnavailable
        }
        let now = clock.now()
        let call = try await database.withTransaction(.licensee(licenseeID), logger: logger) { connection in
            try await Self.insertRingingCall(
                caller: caller.id, advisor: advisorID, licenseeID: licenseeID, now: now, ringTimeout: settings.ringTimeout,
                on: connection, logger: logger)
        }
        do {
            try await rooms.createRoom(
                RoomSpecification(
                    name: call.roomName, maxParticipants: 2, emptyTimeout: settings.roomEmptyTimeout,
                    metadata: call.id.uuidString.lowercased()),
                credentials: account, logger: logger)
        } catch {
            logger.warning(
                "the media service did not create a room; the call is cancelled", metadata: ["call_id": "\(call.id)", "error": "\(error)"])
            try await finish(call.id, status: .cancelled, reason: .roomUnavailable, scope: .licensee(licenseeID), logger: logger)
            throw CallError.roomUnavailable
        }
        let join = try await joinToken(for: call, participant: caller, account: account)
        alerts.announce(call, callerName: caller.displayName ?? "")
        return CallWithJoin(call: call, join: join)
    }

    private static func insertRingingCall(
        caller: UUID, advisor: UUID, licenseeID: UUID, now: Date, ringTimeout: Duration, on connection: PostgresConnection,
        logger: Logger
    ) async throws -> Call {
        // The Licensee's row is the lock that makes the concurrent-call count exact; FOR NO KEY UPDATE leaves
        // inserts that reference the Licensee (FOR KEY SHARE) unblocked.
        guard
            let licensee = try await connection.query(
                """
                SELECT licence_status, max_concurrent_calls, currency, billing_increment_seconds, commission_bps, platform_fee_bps
                FROM licensees WHERE id = \(licenseeID) FOR NO KEY UPDATE
                """, logger: logger
            ).collect().first?.decode((String, Int32, String, Int32, Int32, Int32).self)
        else { throw CallError.licenceInactive }
        let (licence, limit, currency, incrementSeconds, commission, platformFee) = licensee
        guard licence != "suspended", licence != "terminated" else { throw CallError.licenceInactive }

        guard
            let (rate, presence, approval, userStatus) = try await connection.query(
                """
                SELECT p.rate_per_minute_minor, p.presence, p.approval_status, u.status
                FROM advisor_profiles p JOIN users u ON u.id = p.user_id AND u.licensee_id = p.licensee_id
                WHERE p.user_id = \(advisor) AND p.licensee_id = \(licenseeID) AND u.role = 'advisor'
                FOR UPDATE OF p
                """, logger: logger
            ).collect().first?.decode((Int64, String, String, String).self),
            approval == "approved", userStatus == "active"
        else { throw CallError.advisorNotFound }

        let ownLive = try await connection.query(
            "SELECT count(*) FROM calls WHERE caller_id = \(caller) AND status IN ('ringing', 'active')", logger: logger
        ).collect().first?.decode(Int64.self)
        guard ownLive == 0 else { throw CallError.alreadyInCall }
        guard presence == "available" else { throw CallError.advisorNotAvailable }

        let live =
            try await connection.query(
                "SELECT count(*) FROM calls WHERE licensee_id = \(licenseeID) AND status IN ('ringing', 'active')", logger: logger
            ).collect().first?.decode(Int64.self) ?? 0
        guard live < Int64(limit) else { throw CallError.concurrentCallLimit(limit: Int(limit)) }

        let price = CallPrice(
            currency: currency, ratePerMinute: rate, incrementSeconds: Int(incrementSeconds), commissionBasisPoints: Int(commission),
            platformFeeBasisPoints: Int(platformFee))
        let balance =
            try await connection.query(
                """
                SELECT balance FROM ledger_accounts
                WHERE licensee_id = \(licenseeID) AND kind = 'wallet' AND owner_id = \(caller) AND shard = 0
                """, logger: logger
            ).collect().first?.decode(Int64.self) ?? 0
        // A debt blocks new calls even when the call is free.
        guard balance >= max(price.incrementPrice, 0), balance >= 0 else {
            throw CallError.insufficientFunds(balance: balance, required: price.incrementPrice)
        }

        let ringDeadline = now.adding(ringTimeout)
        // The id comes from the function behind the column's default (time-ordered, migration 0016), made here
        // rather than left to the default because the room is named after it in the same row.
        let row = try await connection.query(
            """
            INSERT INTO calls (id, licensee_id, caller_id, advisor_id, room_name, currency, rate_per_minute_minor,
                increment_seconds, increment_price_minor, commission_bps, platform_fee_bps, created_at, ring_deadline)
            SELECT n.id, \(licenseeID), \(caller), \(advisor), 'call-' || n.id, \(currency), \(rate),
                \(incrementSeconds), \(price.incrementPrice), \(commission), \(platformFee), \(now), \(ringDeadline)
            FROM (SELECT talktime_time_ordered_uuid() AS id) n
            RETURNING \(unescaped: CallRecords.columns.sql)
            """, logger: logger
        ).collect().first
        try await connection.query(
            "UPDATE advisor_profiles SET presence = 'busy', updated_at = now() WHERE user_id = \(advisor)", logger: logger)
        guard let row else { throw CallError.callNotFound }
        return try CallRecords.decode(row)
    }

    /// A join token for `participant` into `call`'s room.
    func joinToken(for call: Call, participant: Principal, account: CallRoomCredentials) async throws -> RoomJoin {
        let grant = RoomJoinGrant(
            room: call.roomName, identity: Call.roomIdentity(of: participant.id), displayName: participant.displayName ?? "",
            validFor: settings.joinTokenLifetime)
        let token = try await rooms.joinToken(grant, credentials: account, now: clock.now())
        return RoomJoin(url: account.serverURL, room: call.roomName, token: token)
    }

    /// Finishes the live call `id` in a transaction of its own, then closes its room.
    func finish(_ id: UUID, status: Call.Status, reason: Call.EndReason, scope: TenantScope, logger: Logger) async throws {
        let now = clock.now()
        let finished = try await database.withTransaction(scope, logger: logger) { connection in
            try await CallRecords.finish([id], status: status, reason: reason, at: now, on: connection, logger: logger)
        }
        for call in finished { await closeRoom(of: call, logger: logger) }
    }

    /// Deletes a finished call's room at the media service and records it; on failure the billing engine tries
    /// again later, so a call never waits on the media service to be over.
    func closeRoom(of call: Call, logger: Logger) async {
        do {
            if let account = try await credentials.credentials(forLicensee: call.licenseeID, logger: logger) {
                try await rooms.deleteRoom(named: call.roomName, credentials: account, logger: logger)
            }
            try await database.withTransaction(.licensee(call.licenseeID), logger: logger) { connection in
                try await connection.query(
                    "UPDATE calls SET room_closed_at = now() WHERE id = \(call.id) AND room_closed_at IS NULL", logger: logger)
            }
        } catch {
            logger.warning("a finished call's room is still open; it will be closed later", metadata: ["call_id": "\(call.id)", "error": "\(error)"])
        }
    }
}
