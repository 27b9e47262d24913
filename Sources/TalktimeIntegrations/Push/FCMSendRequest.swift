import Foundation
import TalktimeCore

/// The body of `messages:send`: a data-only message for one registration token, delivered at high priority and
/// dropped by FCM once its time to live has passed.
struct FCMSendRequest: Encodable {
    struct Message: Encodable {
        let token: String
        /// `type` and the message's fields, all strings as FCM requires.
        let data: [String: String]
        let android: Android
    }

    struct Android: Encodable {
        let priority: String
        /// Seconds with an `s` suffix, protobuf's Duration in JSON.
        let ttl: String
        let collapse_key: String?
    }

    let message: Message

    /// FCM keeps a message for at most four weeks.
    static let longestTimeToLive = 2_419_200

    init(_ message: PushMessage, token: String) {
        var data = message.data
        // `type` is the message's own field; a data entry of the same name would contradict it.
        data["type"] = message.type
        let seconds = min(max(0, message.timeToLive.components.seconds), Int64(Self.longestTimeToLive))
        self.message = Message(
            token: token, data: data, android: Android(priority: "HIGH", ttl: "\(seconds)s", collapse_key: message.collapseKey))
    }
}
