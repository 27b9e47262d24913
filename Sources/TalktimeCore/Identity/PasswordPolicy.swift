/// What a new password must be: 8 to 256 characters, no NUL, not a commonly used password, not the email.
/// Characters are Unicode code points, as JSON Schema's `minLength` counts them in `openapi.yaml`.
///
/// Long passphrases are welcome: `PasswordHasher` handles BCrypt's 72-byte limit without truncating.
public enum PasswordPolicy {
    public static let minimumLength = 8
    public static let maximumLength = 256
    /// Bounds the work of one hash whatever the characters: 256 characters of 4 bytes each.
    static let maximumBytes = 1024

    public enum Violation: Error, Equatable, CustomStringConvertible {
        case tooShort
        case tooLong
        case containsNUL
        case tooCommon
        case sameAsEmail

        public var description: String {
            switch self {
            case .tooShort: "The password must have at least \(PasswordPolicy.minimumLength) characters."
            case .tooLong: "The password must have at most \(PasswordPolicy.maximumLength) characters."
            case .containsNUL: "The password must not contain a NUL character."
            case .tooCommon: "This password is among the most commonly used ones; choose another."
            case .sameAsEmail: "The password must not be the account's email address."
            }
        }
    }

    public static func check(_ password: String, email: String?) throws(Violation) {
        let length = password.unicodeScalars.count
        guard length >= minimumLength else { throw .tooShort }
        guard length <= maximumLength, password.utf8.count <= maximumBytes else { throw .tooLong }
        // BCrypt's C core reads up to the first NUL: everything after it would silently not count.
        guard !password.utf8.contains(0) else { throw .containsNUL }
        let folded = password.lowercased()
        guard !CommonPasswords.all.contains(folded) else { throw .tooCommon }
        if let email, folded == email.lowercased() { throw .sameAsEmail }
    }
}
