import Foundation

/// Stripe's request bodies: `application/x-www-form-urlencoded`, nested keys in brackets (`metadata[top_up_id]`).
enum StripeFormEncoding {
    /// `pairs` in order, each key and value percent-encoded so that `&`, `=`, `+`, spaces and any Unicode survive.
    static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }

    // RFC 3986 unreserved characters stay; brackets are escaped too, which Stripe decodes like any other.
    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }
}
