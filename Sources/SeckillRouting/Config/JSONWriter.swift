/// Writes JSON text: string quoting and compact rendering of ``JSONValue``s.
public enum JSONWriter {
    /// A string as a JSON string literal, escaping what RFC 8259 requires.
    ///
    /// - Parameter string: The text.
    /// - Returns: The quoted literal.
    public static func quoted(_ string: String) -> String {
        var out = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where scalar.value < 0x20:
                let digits = String(scalar.value, radix: 16, uppercase: true)
                out += "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
        return out
    }

    /// A value as compact single-line JSON with `", "` and `": "` separators.
    static func compact(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let flag): flag ? "true" : "false"
        case .number(let number): number.literal
        case .string(let string): quoted(string)
        case .array(let elements): "[" + elements.map(compact).joined(separator: ", ") + "]"
        case .object(let object):
            "{" + object.members.map { quoted($0.key) + ": " + compact($0.value) }.joined(separator: ", ") + "}"
        }
    }
}
