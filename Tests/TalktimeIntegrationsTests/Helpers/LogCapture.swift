import Logging
import Synchronization

/// Keeps every log line a test's logger writes, at every level, so a test can check what was never logged.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    /// Each line as its message followed by its metadata, one string per line.
    var text: [String] { lines.withLock { $0 } }

    func logger() -> Logger {
        Logger(label: "capture") { _ in Handler(capture: self) }
    }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
            let line = "\(event.message) " + merged.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            capture.lines.withLock { $0.append(line) }
        }
    }
}
