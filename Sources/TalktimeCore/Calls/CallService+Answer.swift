import Foundation
import Logging
import PostgresNIO

extension CallService {
    /// The Advisor answers: the first increment is charged, the call becomes active and the Advisor gets a
    /// token. Accepting an active call again returns it with a fresh token.
    public func accept(_ callID: UUID, by advisor: Principal, logger: Logger) async throws -> CallWithJoin {
        let licenseeID = try licensee(of: advisor)
        guard let account = try await credentials.credentials(forLicensee: licenseeID, logger: logger) else {
            throw CallError.roomUnavailable
        }
        let now = clock.now()
        let outcome: AcceptOutcome = try await database.withTransaction(.licensee(licenseeID), logger: logger) { connection in
            guard let call = try await CallRecords.find(callID, lock: true, on: connection, logger: logger), call.advisorID == advisor.id
            else { throw CallError.callNotFound }
            switch call.status {
            case .active: return .accepted(call)
            case .ringing: break
            default: throw CallError.invalidState(call.status)
            }
            guard now < call.ringDeadline else {
                let missed = try await CallRecords.finish(
                    [call.id], status: .missed, reason: .missed, at: call.ringDeadline, on: connection, logger: logger)
                return .refused(missed, CallError.invalidState(.missed))
            }
            if call.price.incrementPrice > 0 {
                let posting = try call.price.charge(increment: 1, of: call.billingRef)
                do {
                    _ = try await Ledger(database: database).post(posting, on: connection, logger: logger)
                } catch LedgerError.insufficientFunds(_, let balance) {
                    let ended = try await CallRecords.finish(
                        [call.id], status: .ended, reason: .insufficientFunds, at: now, on: connection, logger: logger)
                    return .refused(ended, CallError.insufficientFunds(balance: balance, required: call.price.incrementPrice))
                }
            }
            let row = try await connection.query(
                """
                UPDATE calls SET status = 'active', answered_at = \(now), paid_until = \(now.adding(.seconds(call.price.incrementSeconds))),
                    billed_increments = 1, billed_amount_minor = increment_price_minor
                WHERE id = \(call.id)
                RETURNING \(unescaped: CallRecords.columns.sql)
                """, logger: logger
            ).collect().first
            guard let row else { throw CallError.callNotFound }
            return .accepted(try CallRecords.decode(row))
        }
        switch outcome {
        case .accepted(let call):
            return CallWithJoin(call: call, join: try await joinToken(for: call, participant: advisor, account: account))
        case .refused(let finished, let error):
            for call in finished { await closeRoom(of: call, logger: logger) }
            throw error
        }
    }

    /// The Advisor declines a ringing call. Declining it again answers the declined call.
    public func decline(_ callID: UUID, by advisor: Principal, logger: Logger) async throws -> Call {
        try await change(callID, by: advisor, logger: logger) { call in
            guard call.advisorID == advisor.id else { throw CallError.callNotFound }
            switch call.status {
            case .ringing: return (.declined, .declined)
            case .declined: return nil
            default: throw CallError.invalidState(call.status)
            }
        }
    }

    /// The caller gives up on a ringing call. Cancelling it again answers the cancelled call.
    public func cancel(_ callID: UUID, by caller: Principal, logger: Logger) async throws -> Call {
        try await change(callID, by: caller, logger: logger) { call in
            guard call.callerID == caller.id else { throw CallError.callNotFound }
            switch call.status {
            case .ringing: return (.cancelled, .cancelled)
            case .cancelled: return nil
            default: throw CallError.invalidState(call.status)
            }
        }
    }

    /// Either party hangs up. A ringing call is cancelled (by the caller) or declined (by the Advisor); ending a
    /// call that is already over answers it unchanged, so a retried request is harmless.
    public func end(_ callID: UUID, by participant: Principal, logger: Logger) async throws -> Call {
        try await change(callID, by: participant, logger: logger) { call in
            guard call.involves(participant.id) else { throw CallError.callNotFound }
            let byCaller = participant.id == call.callerID
            switch call.status {
            case .ringing: return byCaller ? (.cancelled, .cancelled) : (.declined, .declined)
            case .active: return (.ended, byCaller ? .callerEnded : .advisorEnded)
            default: return nil
            }
        }
    }

    /// Locks the call, asks `decide` what it becomes (nil: leave it as it is), finishes it, then closes the room.
    private func change(
        _ callID: UUID, by principal: Principal, logger: Logger,
        decide: @Sendable (Call) throws -> (Call.Status, Call.EndReason)?
    ) async throws -> Call {
        let licenseeID = try licensee(of: principal)
        let now = clock.now()
        let (call, finished) = try await database.withTransaction(.licensee(licenseeID), logger: logger) { connection in
            guard let call = try await CallRecords.find(callID, lock: true, on: connection, logger: logger) else {
                throw CallError.callNotFound
            }
            guard let (status, reason) = try decide(call) else { return (call, false) }
            let finished = try await CallRecords.finish([call.id], status: status, reason: reason, at: now, on: connection, logger: logger)
            return (finished.first ?? call, !finished.isEmpty)
        }
        if finished { await closeRoom(of: call, logger: logger) }
        return call
    }

    func licensee(of principal: Principal) throws -> UUID {
        guard let licenseeID = principal.licenseeID, principal.role == .endUser || principal.role == .advisor else {
            throw CallError.callNotFound
        }
        return licenseeID
    }
}

private enum AcceptOutcome: Sendable {
    case accepted(Call)
    case refused([Call], CallError)
}

extension Call {
    var billingRef: CallBillingRef { CallBillingRef(id: id, licenseeID: licenseeID, callerID: callerID, advisorID: advisorID) }
}
