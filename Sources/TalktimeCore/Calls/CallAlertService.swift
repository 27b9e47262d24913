import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// Pushes incoming-call alerts to Advisors' devices, in the background: `announce` only queues, so a slow or
/// failing push service never slows or fails the request that started the call. Devices the push service
/// calls gone are deleted. On shutdown the queued alerts are still sent.
public final class CallAlertService: IncomingCallAlerting, Service, Sendable {
    private let database: Database
    private let notifiers: any PushNotifierDirectory
    private let ringTimeout: Duration
    private let metrics: PushMetrics
    private let logger: Logger
    private let stream: AsyncStream<(Call, String)>
    private let continuation: AsyncStream<(Call, String)>.Continuation

    /// - Parameter notifiers: each Licensee's notifier (`SharedPushNotifier` for one serving all).
    public init(
        database: Database, notifiers: any PushNotifierDirectory, ringTimeout: Duration, metrics: PushMetrics = .none, logger: Logger
    ) {
        self.database = database
        self.notifiers = notifiers
        self.ringTimeout = ringTimeout
        self.metrics = metrics
        self.logger = logger
        (stream, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(10_000))
    }

    public func announce(_ call: Call, callerName: String) {
        if case .dropped = continuation.yield((call, callerName)) {
            metrics.alert("dropped")
            logger.warning("the incoming-call alert queue is full: the oldest alert was dropped")
        }
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for await (call, callerName) in stream {
                    group.addTask { await self.alert(call, callerName: callerName) }
                }
            }
        } onGracefulShutdown: {
            self.continuation.finish()
        }
    }

    /// Sends the alert to every device of the call's Advisor, with the push credentials of the call's Licensee.
    func alert(_ call: Call, callerName: String) async {
        do {
            let notifier = try await notifiers.notifier(forLicensee: call.licenseeID, logger: logger)
            let devices = try await database.withTransaction(.licensee(call.licenseeID), logger: logger) { connection in
                try await connection.query(
                    "SELECT id, platform, token FROM devices WHERE licensee_id = \(call.licenseeID) AND user_id = \(call.advisorID)",
                    logger: logger
                ).collect().compactMap { row -> PushDevice? in
                    let (id, platform, token) = try row.decode((UUID, String, String).self)
                    return DevicePlatform(rawValue: platform).map { PushDevice(id: id, platform: $0, token: token) }
                }
            }
            let message = PushMessage(
                type: "incoming_call",
                data: [
                    // The id exactly as the API writes it, so an app can match the push to `GET /v1/calls` by string.
                    "call_id": call.id.uuidString, "caller_name": callerName, "room": call.roomName,
                    "ring_deadline": ISO8601DateFormatter().string(from: call.ringDeadline),
                ],
                timeToLive: ringTimeout, collapseKey: call.id.uuidString.lowercased())
            for device in devices {
                let outcome = await notifier.send(message, to: device, logger: logger)
                metrics.delivery(outcome, platform: device.platform)
                if outcome == .deviceGone {
                    try await database.withTransaction(.licensee(call.licenseeID), logger: logger) { connection in
                        try await connection.query("DELETE FROM devices WHERE id = \(device.id)", logger: logger)
                    }
                } else if case .failed(let reason) = outcome {
                    logger.warning(
                        "an incoming-call push failed", metadata: ["call_id": "\(call.id)", "device_id": "\(device.id)", "reason": "\(reason)"])
                }
            }
            metrics.alert("sent")
        } catch {
            metrics.alert("failed")
            logger.warning("could not alert an Advisor's devices", metadata: ["call_id": "\(call.id)", "error": "\(error)"])
        }
    }
}
