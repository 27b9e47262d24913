import Testing

@testable import TalktimeCore

@Suite struct PasswordPolicyTests {
    @Test(arguments: [
        ("short", PasswordPolicy.Violation.tooShort),
        (String(repeating: "a", count: 257), .tooLong),
        ("has a \u{0} inside it", .containsNUL),
        ("Password123", .tooCommon),
        ("QWERTYUIOP", .tooCommon),
        ("someone@example.com", .sameAsEmail),
    ])
    func refuses(password: String, violation: PasswordPolicy.Violation) {
        #expect(throws: violation) { try PasswordPolicy.check(password, email: "someone@example.com") }
    }

    @Test(arguments: ["eight ch", String(repeating: "ü", count: 64), String(repeating: "a", count: 256), "correct horse battery staple"])
    func accepts(password: String) throws {
        try PasswordPolicy.check(password, email: "someone@example.com")
    }
}
