import Foundation
import Hummingbird

extension Request {
    /// Decodes a JSON body, answering 415 for another media type and 400 for a body that does not decode.
    /// The 400 names the field at fault, never the value sent (which may be a password).
    func decodeJSON<Value: Decodable>(as type: Value.Type, context: AppRequestContext) async throws -> Value {
        guard let contentType = headers[.contentType].flatMap(MediaType.init(from:)), contentType.isType(.applicationJson) else {
            throw Problem.unsupportedMediaType()
        }
        var request = self
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        guard !Self.containsEscapedNUL(body.readableBytesView) else {
            // PostgreSQL text cannot hold NUL: refused here, for every route, rather than failing deep inside one.
            throw Problem.badRequest("Strings must not contain the NUL character.")
        }
        do {
            return try APIJSON.decoder.decode(Value.self, from: body)
        } catch let error as DecodingError {
            throw Problem.badRequest(Self.describe(error))
        } catch {
            throw Problem.badRequest("The body is not valid JSON.")
        }
    }

    /// Whether a JSON text holds `\u0000` as an escape (a backslash-escaped backslash before it does not count).
    static func containsEscapedNUL(_ bytes: some Collection<UInt8>) -> Bool {
        let text = Array(bytes)
        let escape = Array("\\u0000".utf8)
        var index = 0
        while index + escape.count <= text.count {
            if text[index] == UInt8(ascii: "\\") {
                if Array(text[index..<index + escape.count]) == escape { return true }
                // Skip the escaped character: an escaped backslash followed by the text u0000 is no NUL.
                index += 2
            } else {
                index += 1
            }
        }
        return false
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.isEmpty
                ? "the body" : "'" + codingPath.map { $0.intValue.map(String.init) ?? APIJSON.snakeCase($0.stringValue) }.joined(separator: ".") + "'"
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context.codingPath + [key])) is required."
        case .typeMismatch(_, let context): return "\(path(context.codingPath)) has the wrong type."
        case .valueNotFound(_, let context): return "\(path(context.codingPath)) must not be null."
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "The body is not valid JSON." : "\(path(context.codingPath)) is invalid."
        @unknown default: return "The body does not match the expected shape."
        }
    }
}
