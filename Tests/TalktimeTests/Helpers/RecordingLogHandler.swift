import Logging
import NIOConcurrencyHelpers

/// Keeps every log line in memory, so tests can check what was logged and what never was.
final class LogRecorder: Sendable {
    struct Line: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]

        /// Everything in the line as one string, for "never contains" checks.
        var text: String { ([message] + metadata.map { "\($0.key)=\($0.value)" }).joined(separator: " ") }
    }

    private let storage = NIOLockedValueBox<[Line]>([])

    var lines: [Line] { storage.withLockedValue { $0 } }

    func logger(label: String = "test") -> Logger {
        Logger(label: label) { _ in Handler(recorder: self) }
    }

    fileprivate func append(_ line: Line) {
        storage.withLockedValue { $0.append(line) }
    }

    private struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = self.metadata.merging(event.metadata ?? [:]) { _, new in new }.mapValues { "\($0)" }
            recorder.append(Line(level: event.level, message: "\(event.message)", metadata: merged))
        }
    }
}
