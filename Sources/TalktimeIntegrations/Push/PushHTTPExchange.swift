import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One HTTP request to a push service, its answer read in full, all within a time limit.
struct PushHTTPExchange: Sendable {
    let status: Int
    let headers: HTTPHeaders
    let body: Data

    /// The request's time limit passed before its answer was read.
    struct TimedOut: Error {}

    /// Performs `request` on `client`; throws `TimedOut` once `timeout` passes, whatever stage the request is in.
    // AsyncHTTPClient's own deadline stops at the response head; a body that trickles in would outlast it, so the
    // whole exchange races a timer instead.
    static func perform(_ request: HTTPClientRequest, on client: HTTPClient, timeout: Duration) async throws -> PushHTTPExchange {
        try await withThrowingTaskGroup(of: PushHTTPExchange?.self) { group in
            group.addTask {
                let response = try await client.execute(request, timeout: timeout.timeAmount)
                let body = try await response.body.collect(upTo: 64 * 1024)
                return PushHTTPExchange(status: Int(response.status.code), headers: response.headers, body: Data(buffer: body))
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let exchange = first else { throw TimedOut() }
            return exchange
        }
    }

    /// A network failure in words safe to log: never a URL (an APNs URL holds the device token) nor a header.
    static func describe(_ error: any Error) -> String {
        if error is TimedOut { return "timed out" }
        if let error = error as? HTTPClientError {
            if error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout { return "timed out" }
            // HTTPClientError's description is the name of its case.
            return "network error (\(error))"
        }
        if error is CancellationError { return "cancelled" }
        return "network error (\(type(of: error)))"
    }
}
