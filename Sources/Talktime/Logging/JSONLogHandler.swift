import Foundation
import Logging

/// Writes one JSON object per log line to standard output: time, level, message, source and metadata.
/// Log collectors parse these without guessing at a format.
struct JSONLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level
    let label: String

    init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let level = event.level
        let message = event.message
        let eventMetadata = event.metadata
        var fields: [String: Any] = [
            "time": Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)),
            "level": level.rawValue,
            "message": "\(message)",
            "logger": label,
        ]
        for (key, value) in metadata.merging(eventMetadata ?? [:], uniquingKeysWith: { _, new in new }) {
            fields[key] = Self.jsonValue(value)
        }
        guard var output = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        output.append(UInt8(ascii: "\n"))
        FileHandle.standardOutput.write(output)
    }

    static func jsonValue(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible): "\(convertible)"
        case .array(let values): values.map(jsonValue)
        case .dictionary(let dictionary): dictionary.mapValues(jsonValue)
        }
    }
}
