/// Passwords of eight or more characters that lead the published lists of leaked passwords, lowercased.
/// Shorter ones are refused by length already.
enum CommonPasswords {
    static let all: Set<String> = [
        "12345678", "123456789", "1234567890", "12345678910", "123123123", "11111111", "00000000", "88888888",
        "87654321", "987654321", "0987654321", "1q2w3e4r", "1q2w3e4r5t", "1qaz2wsx", "1qazxsw2", "zaq12wsx", "qwertyui",
        "qwertyuiop", "asdfghjk", "asdfghjkl", "zxcvbnm1", "password", "password1", "password12", "password123",
        "password!", "passw0rd", "p@ssw0rd", "p@ssword", "iloveyou", "iloveyou1", "sunshine", "princess", "football",
        "baseball", "basketball", "superman", "batman123", "starwars", "whatever", "trustno1", "letmein1", "welcome1",
        "welcome123", "admin123", "administrator", "qwerty123", "qwerty12", "abc12345", "abcd1234", "a1b2c3d4",
        "aa123456", "aa12345678", "11223344", "12341234", "12344321", "123qweasd", "qweasdzxc", "q1w2e3r4",
        "q1w2e3r4t5", "changeme", "changeme1", "computer", "internet", "michelle", "jennifer", "jordan23", "liverpool",
        "chelsea1", "arsenal1", "mustang1", "shadow12", "dragon12", "monkey12", "charlie1", "freedom1", "master12",
        "hello123", "loveyou1", "lovely12", "babygirl", "butterfly", "chocolate", "pokemon1", "samsung1", "google123",
        "secret12", "security", "test1234", "testtest", "demo1234", "guest123", "default1", "passport", "fuckyou1",
        "blink182", "matrix12", "soccer12", "hockey12", "yankees1", "cowboys1", "eagles12", "tigger12", "summer2024",
        "summer2025", "summer2026", "winter2025", "winter2026", "spring2026", "autumn2026", "talktime", "talktime1",
        "talktime123",
    ]
}
