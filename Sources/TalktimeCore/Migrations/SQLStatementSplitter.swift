/// Splits a migration file into single statements, because postgres-nio's extended protocol runs one
/// statement per query.
///
/// It understands what can hide a semicolon: `--` and nested `/* */` comments, single-quoted strings
/// (with `''`, and backslash escapes in `E'...'`), double-quoted identifiers and `$tag$` dollar quotes.
/// Statements made only of comments are dropped.
public enum SQLStatementSplitter {
    public static func split(_ sql: String) -> [String] {
        let characters = Array(sql.unicodeScalars)
        var statements: [String] = []
        var current = String.UnicodeScalarView()
        var hasCode = false
        var index = 0

        func finishStatement() {
            let text = String(current).trimmingWhitespace()
            if hasCode, !text.isEmpty { statements.append(text) }
            current = String.UnicodeScalarView()
            hasCode = false
        }
        func copy(until end: Int) {
            current.append(contentsOf: characters[index..<min(end, characters.count)])
            index = min(end, characters.count)
        }

        while index < characters.count {
            let character = characters[index]
            let next: Unicode.Scalar? = index + 1 < characters.count ? characters[index + 1] : nil
            switch character {
            case "-" where next == "-":
                copy(until: endOfLineComment(characters, from: index))
            case "/" where next == "*":
                copy(until: endOfBlockComment(characters, from: index))
            case "'":
                let escapes = index > 0 && (characters[index - 1] == "E" || characters[index - 1] == "e")
                hasCode = true
                copy(until: endOfQuoted(characters, from: index, quote: "'", backslashEscapes: escapes))
            case "\"":
                hasCode = true
                copy(until: endOfQuoted(characters, from: index, quote: "\"", backslashEscapes: false))
            case "$":
                hasCode = true
                if let tag = dollarTag(characters, at: index) {
                    copy(until: endOfDollarQuote(characters, from: index, tag: tag))
                } else {
                    copy(until: index + 1)
                }
            case ";":
                index += 1
                finishStatement()
            default:
                if !character.properties.isWhitespace { hasCode = true }
                copy(until: index + 1)
            }
        }
        finishStatement()
        return statements
    }

    static func endOfLineComment(_ characters: [Unicode.Scalar], from start: Int) -> Int {
        var index = start
        while index < characters.count, characters[index] != "\n" { index += 1 }
        return index
    }

    static func endOfBlockComment(_ characters: [Unicode.Scalar], from start: Int) -> Int {
        var depth = 0
        var index = start
        while index < characters.count {
            if characters[index] == "/", index + 1 < characters.count, characters[index + 1] == "*" {
                depth += 1
                index += 2
            } else if characters[index] == "*", index + 1 < characters.count, characters[index + 1] == "/" {
                depth -= 1
                index += 2
                if depth == 0 { return index }
            } else {
                index += 1
            }
        }
        return index
    }

    static func endOfQuoted(_ characters: [Unicode.Scalar], from start: Int, quote: Unicode.Scalar, backslashEscapes: Bool) -> Int {
        var index = start + 1
        while index < characters.count {
            let character = characters[index]
            if backslashEscapes, character == "\\" {
                index += 2
            } else if character == quote {
                // A doubled quote is an escaped quote inside the literal.
                if index + 1 < characters.count, characters[index + 1] == quote {
                    index += 2
                } else {
                    return index + 1
                }
            } else {
                index += 1
            }
        }
        return index
    }

    /// `$$` or `$tag$` starting at `start`, or nil when the `$` is something else (a parameter like `$1`).
    static func dollarTag(_ characters: [Unicode.Scalar], at start: Int) -> String? {
        var index = start + 1
        var tag = "$"
        while index < characters.count {
            let character = characters[index]
            if character == "$" { return tag + "$" }
            let allowed = character == "_" || character.properties.isAlphabetic || (index > start + 1 && ("0"..."9").contains(character))
            guard allowed else { return nil }
            tag.unicodeScalars.append(character)
            index += 1
        }
        return nil
    }

    static func endOfDollarQuote(_ characters: [Unicode.Scalar], from start: Int, tag: String) -> Int {
        let tagScalars = Array(tag.unicodeScalars)
        var index = start + tagScalars.count
        while index < characters.count {
            if characters[index] == "$", index + tagScalars.count <= characters.count,
                Array(characters[index..<index + tagScalars.count]) == tagScalars
            {
                return index + tagScalars.count
            }
            index += 1
        }
        return index
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
