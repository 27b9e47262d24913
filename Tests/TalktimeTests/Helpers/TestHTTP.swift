import Foundation
import Hummingbird
import HummingbirdTesting

@testable import Talktime

/// A JSON-speaking wrapper over Hummingbird's test client.
struct TestHTTP: Sendable {
    let client: any TestClientProtocol

    struct Reply: Sendable {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let body: Data

        var text: String { String(decoding: body, as: UTF8.self) }

        /// The body as a JSON object (empty when it is not one).
        var json: [String: any Sendable] {
            (try? JSONSerialization.jsonObject(with: body)) as? [String: any Sendable] ?? [:]
        }

        func string(_ key: String) -> String? { json[key] as? String }

        /// The problem body without its request id, for comparing two answers.
        var problemWithoutRequestID: [String: String] {
            json.filter { $0.key != "request_id" }.mapValues { "\($0)" }
        }
    }

    func send(
        _ method: HTTPRequest.Method, _ uri: String, json: [String: any Sendable]? = nil, token: String? = nil, licensee: String? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> Reply {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        if let licensee { headers[.xLicensee] = licensee }
        var body: ByteBuffer?
        if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(data: try JSONSerialization.data(withJSONObject: json))
        }
        return try await client.execute(uri: uri, method: method, headers: headers, body: body) { response in
            Reply(status: response.status, headers: response.headers, body: Data(buffer: response.body))
        }
    }

    /// Sends `body` exactly as given (a webhook's signed bytes).
    func send(_ method: HTTPRequest.Method, _ uri: String, raw body: [UInt8], headers: HTTPFields) async throws -> Reply {
        try await client.execute(uri: uri, method: method, headers: headers, body: ByteBuffer(bytes: body)) { response in
            Reply(status: response.status, headers: response.headers, body: Data(buffer: response.body))
        }
    }
}

extension TestHTTP {
    /// The value `GET /metrics` gives the series `name` whose labels include `labels` (nil when there is none).
    func metric(_ name: String, _ labels: [String: String]) async throws -> Double? {
        let exposition = try await send(.get, "/metrics").text
        for line in exposition.split(separator: "\n") where line.hasPrefix(name + "{") {
            let (series, value) = (line.prefix { $0 != " " }, line.split(separator: " ").last ?? "")
            if labels.allSatisfy({ series.contains("\($0.key)=\"\($0.value)\"") }) { return Double(value) }
        }
        return nil
    }
}
