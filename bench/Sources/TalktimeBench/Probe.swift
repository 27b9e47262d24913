import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A paced latency probe: one keep-alive connection, a GET every 1/rate seconds, each request's time from
/// first byte written to last byte read. Open loop and nearly free, so it measures how long the server keeps an
/// ordinary request waiting rather than how fast the client can go.
struct Probe {
    let port: UInt16
    /// What the probe reports itself as.
    let label: String
    /// The bytes of request number `n` (from 0); an ordinary probe sends the same request every time.
    let request: (Int) -> [UInt8]
    /// The status a successful request gets.
    let expectedStatus: Int

    /// GETs of `path`, with a bearer token when given.
    init(port: UInt16, path: String, token: String?) {
        var text = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if let token { text += "Authorization: Bearer \(token)\r\n" }
        text += "\r\n"
        let bytes = Array(text.utf8)
        self.init(port: port, label: path, expectedStatus: 200) { _ in bytes }
    }

    init(port: UInt16, label: String, expectedStatus: Int, request: @escaping (Int) -> [UInt8]) {
        self.port = port
        self.label = label
        self.request = request
        self.expectedStatus = expectedStatus
    }

    /// Sends requests for `seconds` at `rate` a second (or until `limit` requests), then prints percentiles.
    func run(seconds: Double, rate: Double, limit: Int = .max) {
        let socket = connectToServer()
        var latencies: [Double] = []
        var failures = 0
        let clock = ContinuousClock()
        let end = clock.now + .seconds(seconds)
        var next = clock.now
        while clock.now < end, latencies.count < limit {
            let bytes = request(latencies.count)
            let start = clock.now
            _ = bytes.withUnsafeBytes { write(socket, $0.baseAddress, $0.count) }
            if readResponse(socket) != expectedStatus { failures += 1 }
            let elapsed = clock.now - start
            latencies.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
            next = next + .seconds(1 / rate)
            let wait = next - clock.now
            if wait > .zero { Thread.sleep(forTimeInterval: Double(wait.components.attoseconds) / 1e18) }
        }
        close(socket)
        latencies.sort()
        func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        print(
            String(
                format: "PROBE %@ n=%d failures=%d p50=%.2fms p99=%.2fms max=%.2fms", label, latencies.count, failures, percentile(0.5),
                percentile(0.99), latencies.last ?? 0))
    }

    private func connectToServer() -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var noDelay: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            FileHandle.standardError.write(Data("probe: cannot connect to port \(port)\n".utf8))
            exit(1)
        }
        return descriptor
    }

    /// Reads one response (headers and a Content-Length body) and returns its status code.
    private func readResponse(_ socket: Int32) -> Int {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(socket, $0.baseAddress, $0.count) }
            guard count > 0 else { return -1 }
            buffer += chunk[0..<count]
            guard let headerEnd = buffer.firstRange(of: Array("\r\n\r\n".utf8)) else { continue }
            let head = String(decoding: buffer[..<headerEnd.lowerBound], as: UTF8.self)
            let length =
                head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
            if buffer.count - headerEnd.upperBound >= length {
                return Int(head.split(separator: " ")[1]) ?? -1
            }
        }
    }
}
