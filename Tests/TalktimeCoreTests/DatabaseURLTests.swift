import Testing

@testable import TalktimeCore

@Suite struct DatabaseURLTests {
    @Test func parsesEveryPart() throws {
        let url = try DatabaseURL("postgres://talktime_app:p%40ss@db.internal:6432/talktime?sslmode=require")
        #expect(
            url == DatabaseURL(host: "db.internal", port: 6432, username: "talktime_app", password: "p@ss", database: "talktime", tlsMode: .require))
    }

    @Test func defaultsTLSByHost() throws {
        #expect(try DatabaseURL("postgres://u@127.0.0.1/db").tlsMode == .disable)
        #expect(try DatabaseURL("postgres://u@localhost/db").tlsMode == .disable)
        #expect(try DatabaseURL("postgresql://u@db.example.com/db").tlsMode == .require)
        #expect(try DatabaseURL("postgres://u@db.example.com/db?sslmode=disable").tlsMode == .disable)
    }

    @Test(arguments: [
        "mysql://u@h/db", "postgres://h/db", "postgres://u@h", "postgres://u@h/", "postgres://u@h/db?sslmode=verify-ca",
        "postgres://u@h/db?application_name=x", "not a url",
    ])
    func refusesMalformedURLs(text: String) {
        #expect(throws: DatabaseURL.ParseError.self) { try DatabaseURL(text) }
    }

    @Test func errorsNeverRepeatThePassword() {
        do {
            _ = try DatabaseURL("postgres://user:hunter2-secret@/db")
            Issue.record("expected an error")
        } catch {
            #expect(!"\(error)".contains("hunter2"))
        }
    }
}
