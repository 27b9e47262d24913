import Hummingbird
import Logging
import PostgresNIO
import TalktimeCore

/// Turns every error into an `application/problem+json` response, so no error leaves in another shape.
///
/// Unexpected errors are logged with the request id and answered with a bare 500: their text may hold SQL
/// or personal data and never reaches the client. A path that exists with another method gets 405 and
/// `Allow` (Hummingbird's router would say 404).
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let endpoints: EndpointTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            return try problem.response(from: request, context: context)
        } catch let error as IdentityError {
            return try error.problem.response(from: request, context: context)
        } catch let error as WalletError {
            return try error.problem.response(from: request, context: context)
        } catch let error as CallError {
            return try error.problem.response(from: request, context: context)
        } catch let error as LicenseeAccountError {
            return try error.problem.response(from: request, context: context)
        } catch is DeviceNotFound {
            return try Problem.notFound().response(from: request, context: context)
        } catch is PasswordHasherBusy {
            let problem = Problem(
                status: .serviceUnavailable, type: ProblemType.busy, detail: "The server is busy checking passwords; retry shortly.",
                headers: [.retryAfter: "1"])
            return try problem.response(from: request, context: context)
        } catch let error as HTTPError {
            return try problem(for: error, request: request).response(from: request, context: context)
        } catch let error as any HTTPResponseError {
            return try Problem(status: error.status).response(from: request, context: context)
        } catch {
            context.logger.error("request failed", metadata: Self.errorMetadata(error))
            return try Problem.internalError().response(from: request, context: context)
        }
    }

    private func problem(for error: HTTPError, request: Request) -> Problem {
        switch error.status {
        case .notFound:
            let allowed = endpoints.allowedMethods(forPath: request.uri.path)
            return allowed.isEmpty ? .notFound() : .methodNotAllowed(allowed: allowed)
        case .contentTooLarge:
            return Problem(status: .contentTooLarge, detail: "The request body is larger than this server accepts.")
        case .badRequest:
            // Hummingbird's own 400s describe what failed to decode (a coding path), never a stored value.
            return .badRequest(error.body ?? "The request is malformed.")
        default:
            return Problem(status: error.status)
        }
    }

    /// What may be logged about an unexpected error: its type, and for database errors the SQLSTATE and the
    /// server's message (never the query, its bindings or the message's detail, which can quote row values).
    static func errorMetadata(_ error: any Error) -> Logger.Metadata {
        var metadata: Logger.Metadata = ["error.type": "\(type(of: error))"]
        if let error = error as? PSQLError {
            metadata["db.sqlstate"] = "\(error.serverInfo?[.sqlState] ?? "none")"
            metadata["db.message"] = "\(error.serverInfo?[.message] ?? "\(error.code)")"
        } else if let error = error as? PostgresTransactionError {
            return errorMetadata(error.closureError ?? error.commitError ?? error.beginError ?? error)
        }
        return metadata
    }
}
