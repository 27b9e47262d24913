import Hummingbird
import Logging
import TalktimeCore

/// Finds the Licensee a request addresses: `X-Licensee: <slug>` first, then the request's host among the
/// Licensees' custom domains.
struct LicenseeResolver: Sendable {
    let directory: LicenseeDirectory

    /// The Licensee, or nil when the request names none (a platform admin's request).
    func licensee(of request: Request, logger: Logger) async throws -> LicenseeDirectory.Entry? {
        if let slug = request.headers[.xLicensee] {
            guard let entry = try await directory.find(slug: slug, logger: logger) else { throw IdentityError.unknownLicensee }
            return entry
        }
        guard let host = request.head.authority else { return nil }
        return try await directory.find(host: host, logger: logger)
    }

    func requiredLicensee(of request: Request, logger: Logger) async throws -> LicenseeDirectory.Entry {
        guard let entry = try await licensee(of: request, logger: logger) else {
            throw Problem.validation("Name the Licensee with the X-Licensee header, or call through one of its domains.")
        }
        return entry
    }
}
