import Foundation

/// Checks the base URLs and endpoints the push configurations are given.
enum PushURL {
    /// `text` without a trailing slash, if it is an absolute http(s) URL with a host.
    static func validated(_ text: String, field: String) throws(PushConfigurationError) -> String {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http",
            let host = url.host, !host.isEmpty
        else { throw .invalidURL(field: field) }
        return text.hasSuffix("/") ? String(text.dropLast()) : text
    }
}
