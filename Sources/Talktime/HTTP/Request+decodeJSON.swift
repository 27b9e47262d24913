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
        let value: Value
        do {
            value = try APIJSON.decoder.decode(Value.self, from: body)
        } catch let error as DecodingError {
            throw Problem.badRequest(Self.describe(error))
        } catch {
            throw Problem.badRequest("The body is not valid JSON.")
        }
        // PostgreSQL text cannot hold NUL: refused here, for every route, rather than failing deep inside one.
        // Only the fields the route reads are checked; members it ignores may say what they like.
        guard !Self.containsNUL(value) else { throw Problem.badRequest("Strings must not contain the NUL character.") }
        return value
    }

    /// Whether any string in a decoded value (its properties, elements and optionals, all the way down) has a NUL.
    static func containsNUL(_ value: Any) -> Bool {
        if let string = value as? String { return string.utf8.contains(0) }
        return Mirror(reflecting: value).children.contains { containsNUL($0.value) }
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
