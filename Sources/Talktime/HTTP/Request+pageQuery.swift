import Foundation
import Hummingbird

extension Request {
    /// The `limit` (default 20) and `starting_after` (an id) of a list route's query; the domain checks the
    /// limit's range and that the cursor names an item of the list.
    func pageQuery() throws -> (limit: Int, startingAfter: UUID?) {
        let query = uri.queryParameters
        let limit = try query.get("limit").map { text in
            guard let limit = Int(text) else { throw Problem.badRequest("'limit' must be an integer between 1 and 100.") }
            return limit
        }
        let startingAfter = try query.get("starting_after").map { text in
            guard let id = UUID(uuidString: text) else { throw Problem.badRequest("'starting_after' must be an id from the list.") }
            return id
        }
        return (limit ?? 20, startingAfter)
    }
}
