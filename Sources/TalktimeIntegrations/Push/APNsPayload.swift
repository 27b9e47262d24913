import Foundation
import TalktimeCore

/// The JSON body of a VoIP push: the message's `type` and fields at the top level, where the app's PushKit
/// handler reads them, beside the `aps` dictionary APNs expects (empty: a VoIP push shows nothing by itself).
enum APNsPayload {
    static func encode(_ message: PushMessage) throws -> Data {
        var object: [String: Any] = message.data
        object["type"] = message.type
        // `aps` is APNs' own key; a data field of that name is not ours to send.
        object["aps"] = [String: Any]()
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }
}
