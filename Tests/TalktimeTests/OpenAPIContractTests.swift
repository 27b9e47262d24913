import Foundation
import Testing

@testable import Talktime

/// `openapi.yaml` is the contract: it lists exactly the routes the server answers, no more, no fewer.
@Suite struct OpenAPIContractTests {
    static let specification = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("openapi.yaml")

    /// "GET /healthz" for each operation under `paths:`. Reads the layout this file keeps: paths indented two
    /// spaces, methods four.
    static func documentedOperations() throws -> Set<String> {
        let lines = try String(contentsOf: specification, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let methods: Set<String> = ["get", "put", "post", "delete", "patch", "options", "head", "trace"]
        var operations: Set<String> = []
        var inPaths = false
        var currentPath: String?
        for line in lines {
            if !line.hasPrefix(" "), !line.isEmpty {
                inPaths = line == "paths:"
                continue
            }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), !line.hasPrefix("   "), line.hasSuffix(":") {
                currentPath = String(line.dropFirst(2).dropLast())
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":"),
                methods.contains(String(line.dropFirst(4).dropLast())), let currentPath
            {
                operations.insert(line.dropFirst(4).dropLast().uppercased() + " " + currentPath)
            }
        }
        return operations
    }

    @Test func theSpecificationListsExactlyTheServedRoutes() async throws {
        let components = try await AppComponents(configuration: try makeConfiguration(), logger: .init(label: "test"))
        let served = Set(components.endpoints.map { "\($0.method.rawValue) \($0.path)" })
        let documented = try Self.documentedOperations()
        #expect(!documented.isEmpty)
        #expect(served.subtracting(documented).isEmpty, "served but not in openapi.yaml: \(served.subtracting(documented).sorted())")
        #expect(documented.subtracting(served).isEmpty, "in openapi.yaml but not served: \(documented.subtracting(served).sorted())")
    }
}
