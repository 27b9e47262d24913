import Crypto
import Foundation
import Hummingbird
import TalktimeCore

/// A response encoded in full, so that it can be stored and replayed byte for byte.
struct EncodedResponse: Sendable {
    let status: HTTPResponse.Status
    let body: [UInt8]

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> EncodedResponse {
        EncodedResponse(status: status, body: Array(try APIJSON.encoder.encode(value)))
    }
}

/// Runs a money-moving handler at most once per caller and `Idempotency-Key`, with Stripe's semantics: the
/// header is required; the same key and request replay the stored response (marked `Idempotent-Replayed`);
/// the same key with another method, path or body answers 422; while the first request runs, 409.
struct IdempotencyGuard: Sendable {
    let store: IdempotencyStore

    /// - Parameter handler: gets the request (its body still readable) and the caller's key.
    func run(
        _ request: Request, context: AppRequestContext, principal: Principal,
        handler: (Request, String) async throws -> EncodedResponse
    ) async throws -> Response {
        guard let key = request.headers[.idempotencyKey] else {
            throw Problem(
                status: .badRequest, type: ProblemType.idempotencyKeyRequired, title: "Idempotency-Key required",
                detail: "Send an Idempotency-Key header (1 to 255 visible ASCII characters), unique to this operation.")
        }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7e).contains($0) }) else {
            throw Problem(
                status: .badRequest, type: ProblemType.idempotencyKeyRequired, title: "Invalid Idempotency-Key",
                detail: "An Idempotency-Key has 1 to 255 visible ASCII characters.")
        }
        guard let licenseeID = principal.licenseeID else { throw Problem.forbidden() }

        var request = request
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        var hash = SHA256()
        hash.update(data: Array("\(request.method.rawValue) \(request.uri.path)\n".utf8))
        hash.update(data: Self.canonical(Array(buffer: body)))
        let fingerprint = Array(hash.finalize())
        let owner = IdempotencyStore.Owner(licenseeID: licenseeID, principalID: principal.id, key: key)

        switch try await store.claim(owner, fingerprint: fingerprint, logger: context.logger) {
        case .replay(let stored):
            return Response(
                status: HTTPResponse.Status(code: stored.status),
                headers: [.contentType: stored.contentType, .idempotentReplayed: "true"],
                body: .init(byteBuffer: ByteBuffer(bytes: stored.body)))
        case .inProgress:
            throw Problem(
                status: .conflict, type: ProblemType.idempotencyKeyInUse, title: "Request in progress",
                detail: "A request with this Idempotency-Key is still being processed; retry it shortly.", headers: [.retryAfter: "1"])
        case .mismatch:
            throw Problem(
                status: .unprocessableContent, type: ProblemType.idempotencyKeyReused, title: "Idempotency-Key reused",
                detail: "This Idempotency-Key was used for a different request; use a new key for a new operation.")
        case .proceed:
            let response: EncodedResponse
            do {
                response = try await handler(request, key)
            } catch {
                // Nothing was stored: the effects behind the handler are idempotent on their own, so a retry with
                // this key may safely run it again.
                try? await store.release(owner, logger: context.logger)
                throw error
            }
            if (200..<300).contains(response.status.code) {
                try await store.complete(
                    owner, with: .init(status: response.status.code, contentType: "application/json", body: response.body), logger: context.logger)
            } else {
                try? await store.release(owner, logger: context.logger)
            }
            return Response(
                status: response.status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: response.body)))
        }
    }

    /// A JSON body with its keys sorted and its white space removed, so that the same parameters compare equal
    /// however a client orders them (as Stripe compares parameters, not bytes); any other body as it is.
    static func canonical(_ body: [UInt8]) -> [UInt8] {
        guard let value = try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]),
            let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
        else { return body }
        return Array(data)
    }
}
