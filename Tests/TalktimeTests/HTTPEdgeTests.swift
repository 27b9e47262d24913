import Foundation
import Hummingbird
import HummingbirdTesting
import Metrics
import TalktimeCore
import Testing

@testable import Talktime

/// The middleware stack every route runs behind, driven through the real router with routes made for the
/// purpose: errors as problem+json, 405, body limits, media types, request ids and CORS.
@Suite struct HTTPEdgeTests {
    struct Echo: Codable {
        let name: String
        let count: Int
    }

    struct LeakyError: Error, CustomStringConvertible {
        var description: String { "SELECT * FROM users WHERE password = 'hunter2'" }
    }

    static let endpoints: [Endpoint] = [
        Endpoint(.get, "/items/{id}") { _, context in
            Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: context.parameters.get("id") ?? "")))
        },
        Endpoint(.put, "/items/{id}") { _, _ in Response(status: .noContent) },
        Endpoint(.post, "/echo") { request, context in
            let echo = try await request.decodeJSON(as: Echo.self, context: context)
            return try .json(echo)
        },
        Endpoint(.get, "/boom") { _, _ in throw LeakyError() },
    ]

    let recorder = LogRecorder()

    func withApp(_ test: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let edge = EdgeServices(
            authenticate: { _, _ in throw IdentityError.invalidToken },
            rateLimiter: RateLimiter(store: InMemoryRateLimitStore()),
            clientAddresses: ClientAddressResolver(trustedProxies: [])
        )
        let router = makeRouter(
            endpoints: Self.endpoints,
            edge: edge,
            settings: RouterSettings(maxBodyBytes: 64, corsAllowedOrigins: ["https://dashboard.example.com"]),
            metricsFactory: NOOPMetricsHandler.instance
        )
        let app = Application(router: router, logger: recorder.logger())
        try await app.testShuttingDownInOrder(.router, test)
    }

    /// The response's problem body, or nil (failing the test) when it is not problem+json.
    func problem(_ response: TestResponse) -> Problem.Body? {
        #expect(response.headers[.contentType] == "application/problem+json")
        let body = try? JSONDecoder().decode(Problem.Body.self, from: Data(buffer: response.body))
        #expect(body != nil, "not a problem body: \(String(buffer: response.body))")
        return body
    }

    @Test func anUnknownPathIsAProblem() async throws {
        try await withApp { client in
            try await client.execute(uri: "/nowhere", method: .get) { response in
                #expect(response.status == .notFound)
                let body = problem(response)
                #expect(body?.status == 404)
                #expect(body?.type == "about:blank")
                #expect(body?.requestID == response.headers[.requestID])
            }
        }
    }

    @Test func aKnownPathWithAnotherMethodIs405WithAllow() async throws {
        try await withApp { client in
            try await client.execute(uri: "/items/42", method: .delete) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET, PUT")
                #expect(problem(response)?.status == 405)
            }
            try await client.execute(uri: "/items/42", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "42")
            }
        }
    }

    @Test func aBodyOverTheLimitIs413() async throws {
        try await withApp { client in
            let large = ByteBuffer(string: #"{"name":"\#(String(repeating: "x", count: 100))","count":1}"#)
            try await client.execute(uri: "/echo", method: .post, headers: [.contentType: "application/json"], body: large) { response in
                #expect(response.status == .contentTooLarge)
                #expect(problem(response)?.status == 413)
            }
            let small = ByteBuffer(string: #"{"name":"x","count":1}"#)
            try await client.execute(uri: "/echo", method: .post, headers: [.contentType: "application/json"], body: small) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func aBodyOfAnotherMediaTypeIs415() async throws {
        try await withApp { client in
            let body = ByteBuffer(string: #"{"name":"x","count":1}"#)
            for contentType in ["text/plain", "application/x-www-form-urlencoded"] {
                try await client.execute(uri: "/echo", method: .post, headers: [.contentType: contentType], body: body) { response in
                    #expect(response.status == .unsupportedMediaType)
                    #expect(problem(response)?.status == 415)
                }
            }
            try await client.execute(uri: "/echo", method: .post, body: body) { response in
                #expect(response.status == .unsupportedMediaType)
            }
            try await client.execute(uri: "/echo", method: .post, headers: [.contentType: "application/json; charset=utf-8"], body: body) {
                response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test(arguments: [
        (#"{"name":"x""#, "The body is not valid JSON."),
        (#"{"count":1}"#, "'name' is required."),
        (#"{"name":"x","count":"one"}"#, "'count' has the wrong type."),
        (#"{"name":null,"count":1}"#, "'name' must not be null."),
    ])
    func aMalformedBodyIs400NamingTheField(body: String, detail: String) async throws {
        try await withApp { client in
            try await client.execute(uri: "/echo", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: body)) {
                response in
                #expect(response.status == .badRequest)
                #expect(problem(response)?.detail == detail)
            }
        }
    }

    @Test func aNULInsideAStringIs400AndAnEscapedBackslashIsNot() async throws {
        try await withApp { client in
            let nul = ByteBuffer(string: #"{"name":"a\u0000b","count":1}"#)
            try await client.execute(uri: "/echo", method: .post, headers: [.contentType: "application/json"], body: nul) { response in
                #expect(response.status == .badRequest)
                #expect(problem(response)?.detail == "Strings must not contain the NUL character.")
            }
            let ignored = ByteBuffer(string: #"{"name":"a","count":1,"\u0000":"\u0000"}"#)
            try await client.execute(uri: "/echo", method: .post, headers: [.contentType: "application/json"], body: ignored) { response in
                #expect(response.status == .ok)
            }
            let text = ByteBuffer(string: #"{"name":"a\\u0000b","count":1}"#)
            try await client.execute(uri: "/echo", method: .post, headers: [.contentType: "application/json"], body: text) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func anUnexpectedErrorIsABare500AndNeitherBodyNorLogRepeatsIt() async throws {
        try await withApp { client in
            try await client.execute(uri: "/boom", method: .get, headers: [.requestID: "trace-500"]) { response in
                #expect(response.status == .internalServerError)
                let text = String(buffer: response.body)
                #expect(!text.contains("hunter2") && !text.contains("SELECT"))
                #expect(problem(response)?.requestID == "trace-500")
            }
        }
        let errorLines = recorder.lines.filter { $0.level == .error }
        #expect(errorLines.count == 1)
        #expect(errorLines.first?.metadata["request_id"] == "trace-500")
        #expect(errorLines.first?.metadata["error.type"] == "LeakyError")
        #expect(recorder.lines.allSatisfy { !$0.text.contains("hunter2") })
    }

    @Test func aSaneRequestIDIsEchoedAndAnyOtherReplaced() async throws {
        try await withApp { client in
            try await client.execute(uri: "/items/1", method: .get, headers: [.requestID: "client-id_1.2:3"]) { response in
                #expect(response.headers[.requestID] == "client-id_1.2:3")
            }
            for hostile in ["has space", "line\u{0B}feed", String(repeating: "a", count: 129), "quote\"d"] {
                try await client.execute(uri: "/items/1", method: .get, headers: [.requestID: hostile]) { response in
                    let echoed = response.headers[.requestID]
                    #expect(echoed != hostile)
                    #expect(echoed.flatMap(UUID.init(uuidString:)) != nil)
                }
            }
            try await client.execute(uri: "/items/1", method: .get) { response in
                #expect(response.headers[.requestID].flatMap(UUID.init(uuidString:)) != nil)
            }
        }
        #expect(recorder.lines.contains { $0.metadata["request_id"] == "client-id_1.2:3" })
    }

    @Test func corsAnswersListedOriginsOnly() async throws {
        try await withApp { client in
            try await client.execute(uri: "/items/1", method: .get, headers: [.origin: "https://dashboard.example.com"]) { response in
                #expect(response.headers[.accessControlAllowOrigin] == "https://dashboard.example.com")
                #expect(response.headers[values: .vary].contains("Origin"))
            }
            try await client.execute(uri: "/items/1", method: .get, headers: [.origin: "https://evil.example"]) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.accessControlAllowOrigin] == nil)
            }
            let preflight: HTTPFields = [.origin: "https://dashboard.example.com", .accessControlRequestMethod: "PUT"]
            try await client.execute(uri: "/items/1", method: .options, headers: preflight) { response in
                #expect(response.status == .noContent)
                #expect(response.headers[.accessControlAllowOrigin] == "https://dashboard.example.com")
                #expect(response.headers[.accessControlAllowMethods]?.contains("PUT") == true)
            }
            let hostilePreflight: HTTPFields = [.origin: "https://evil.example", .accessControlRequestMethod: "PUT"]
            try await client.execute(uri: "/items/1", method: .options, headers: hostilePreflight) { response in
                #expect(response.headers[.accessControlAllowOrigin] == nil)
                #expect(response.headers[.accessControlAllowMethods] == nil)
            }
            // Problems carry the CORS headers too, so the dashboard can read its errors.
            try await client.execute(uri: "/nowhere", method: .get, headers: [.origin: "https://dashboard.example.com"]) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.accessControlAllowOrigin] == "https://dashboard.example.com")
            }
        }
    }
}
