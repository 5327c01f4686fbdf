/// A strict RFC 8259 recursive-descent parser over UTF-8 bytes.
///
/// Errors carry the byte offset, turned into a 1-based line and column only when thrown.
struct JSONParser {
    private let bytes: [UInt8]
    private let maxDepth: Int
    private var index = 0
    private var depth = 0
    private var bomLength = 0

    init(bytes: [UInt8], maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    mutating func parseDocument() throws(JSONSyntaxError) -> JSONValue {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            bomLength = 3
            index = 3
        }
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        if index < bytes.count {
            throw failure(at: index, "unexpected content after the top-level value")
        }
        return value
    }

    // MARK: - Values

    private mutating func parseValue() throws(JSONSyntaxError) -> JSONValue {
        guard index < bytes.count else { throw unexpectedEnd(expecting: "a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            return try parseObject()
        case UInt8(ascii: "["):
            return try parseArray()
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try parseNumber())
        case UInt8(ascii: "t"):
            try parseLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try parseLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try parseLiteral("null")
            return .null
        case UInt8(ascii: "'"):
            throw failure(at: index, "strings must be in double quotes")
        case UInt8(ascii: "/"), UInt8(ascii: "#"):
            throw failure(at: index, "comments are not allowed in JSON")
        case UInt8(ascii: "+"):
            throw failure(at: index, "numbers must not start with '+'")
        case UInt8(ascii: "."):
            throw failure(at: index, "numbers must start with a digit")
        default:
            throw JSONSyntaxError(position(of: index), expected: "a value")
        }
    }

    private mutating func parseLiteral(_ word: StaticString) throws(JSONSyntaxError) {
        let start = index
        let count = word.utf8CodeUnitCount
        let matches = word.withUTF8Buffer { expected in
            bytes.count - start >= count && bytes[start..<(start + count)].elementsEqual(expected)
        }
        guard matches else {
            throw failure(at: start, "invalid literal; expected true, false, null, a number, a string, an array or an object")
        }
        index += count
    }

    private mutating func enterContainer() throws(JSONSyntaxError) {
        depth += 1
        if depth > maxDepth {
            throw failure(at: index, "arrays and objects are nested deeper than \(maxDepth) levels")
        }
    }

    private mutating func parseObject() throws(JSONSyntaxError) -> JSONValue {
        try enterContainer()
        index += 1
        var object = JSONObject()
        var keyOffsets: [String: Int] = [:]
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(object)
        }
        var afterComma = false
        while true {
            guard let byte = peek() else { throw unexpectedEnd(expecting: "a string key in double quotes") }
            guard byte == UInt8(ascii: "\"") else {
                if afterComma, byte == UInt8(ascii: "}") {
                    throw failure(at: index, "trailing comma before '}' is not allowed in JSON")
                }
                throw JSONSyntaxError(position(of: index), expected: "a string key in double quotes")
            }
            let keyOffset = index
            let key = try parseString()
            if let first = keyOffsets[key] {
                let (line, column) = position(of: first)
                throw failure(at: keyOffset, "duplicate key \(JSONWriter.quoted(key)) (first at line \(line), column \(column))")
            }
            keyOffsets[key] = keyOffset
            skipWhitespace()
            guard let colon = peek() else { throw unexpectedEnd(expecting: "':' after object key") }
            guard colon == UInt8(ascii: ":") else {
                throw JSONSyntaxError(position(of: index), expected: "':' after object key")
            }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            object.append(key: key, value: value)
            skipWhitespace()
            guard let separator = peek() else { throw unexpectedEnd(expecting: "',' or '}' after object member") }
            switch separator {
            case UInt8(ascii: ","):
                index += 1
                skipWhitespace()
                afterComma = true
            case UInt8(ascii: "}"):
                index += 1
                depth -= 1
                return .object(object)
            default:
                throw JSONSyntaxError(position(of: index), expected: "',' or '}' after object member")
            }
        }
    }

    private mutating func parseArray() throws(JSONSyntaxError) -> JSONValue {
        try enterContainer()
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(elements)
        }
        var afterComma = false
        while true {
            if afterComma, peek() == UInt8(ascii: "]") {
                throw failure(at: index, "trailing comma before ']' is not allowed in JSON")
            }
            elements.append(try parseValue())
            skipWhitespace()
            guard let separator = peek() else { throw unexpectedEnd(expecting: "',' or ']' after array element") }
            switch separator {
            case UInt8(ascii: ","):
                index += 1
                skipWhitespace()
                afterComma = true
            case UInt8(ascii: "]"):
                index += 1
                depth -= 1
                return .array(elements)
            default:
                throw JSONSyntaxError(position(of: index), expected: "',' or ']' after array element")
            }
        }
    }

    // MARK: - Numbers

    private mutating func parseNumber() throws(JSONSyntaxError) -> JSONNumber {
        let start = index
        if peek() == UInt8(ascii: "-") {
            index += 1
        }
        guard let first = peek() else { throw unexpectedEnd(expecting: "a digit after '-'") }
        guard isDigit(first) else { throw JSONSyntaxError(position(of: index), expected: "a digit after '-'") }
        if first == UInt8(ascii: "0") {
            index += 1
            if let next = peek(), isDigit(next) {
                throw failure(at: index, "leading zeros are not allowed in numbers")
            }
        } else {
            skipDigits()
        }
        var isInteger = true
        if peek() == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            try requireDigit(after: "'.'")
            skipDigits()
        }
        if let exponent = peek(), exponent == UInt8(ascii: "e") || exponent == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if let sign = peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                index += 1
            }
            try requireDigit(after: "the exponent marker")
            skipDigits()
        }
        let literal = String(decoding: bytes[start..<index], as: UTF8.self)
        return JSONNumber(validatedLiteral: literal, isInteger: isInteger)
    }

    private mutating func requireDigit(after what: String) throws(JSONSyntaxError) {
        guard let byte = peek() else { throw unexpectedEnd(expecting: "a digit after \(what)") }
        guard isDigit(byte) else { throw JSONSyntaxError(position(of: index), expected: "a digit after \(what)") }
    }

    private mutating func skipDigits() {
        while let byte = peek(), isDigit(byte) {
            index += 1
        }
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    // MARK: - Strings

    private mutating func parseString() throws(JSONSyntaxError) -> String {
        let start = index
        index += 1
        var buffer: [UInt8] = []
        while true {
            guard index < bytes.count else {
                throw failure(at: start, "unterminated string; add the closing '\"'")
            }
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                guard let string = String(validating: buffer, as: UTF8.self) else {
                    throw failure(at: start, "string is not valid UTF-8")
                }
                return string
            case UInt8(ascii: "\\"):
                try parseEscape(into: &buffer)
            case 0x00..<0x20:
                let message =
                    byte == 0x0A
                    ? "line break inside a string; close the string or write it as \\n"
                    : "control character U+00\(hex(byte)) inside a string; escape it"
                throw failure(at: index, message)
            default:
                buffer.append(byte)
                index += 1
            }
        }
    }

    private mutating func parseEscape(into buffer: inout [UInt8]) throws(JSONSyntaxError) {
        let escapeStart = index
        index += 1
        guard let byte = peek() else { throw unexpectedEnd(expecting: "an escape character after '\\'") }
        index += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"):
            buffer.append(byte)
        case UInt8(ascii: "b"): buffer.append(0x08)
        case UInt8(ascii: "f"): buffer.append(0x0C)
        case UInt8(ascii: "n"): buffer.append(0x0A)
        case UInt8(ascii: "r"): buffer.append(0x0D)
        case UInt8(ascii: "t"): buffer.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try parseHex4(escapeStart: escapeStart)
            var scalarValue = UInt32(unit)
            if (0xD800...0xDBFF).contains(unit) {
                let lowStart = index
                guard peek() == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else {
                    throw failure(at: escapeStart, "unpaired surrogate \\u\(hex(unit)) in string")
                }
                index += 2
                let low = try parseHex4(escapeStart: lowStart)
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw failure(at: escapeStart, "unpaired surrogate \\u\(hex(unit)) in string")
                }
                scalarValue = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(unit) {
                throw failure(at: escapeStart, "unpaired surrogate \\u\(hex(unit)) in string")
            }
            // Surrogates are handled above, so every remaining value is a valid scalar.
            let scalar = Unicode.Scalar(scalarValue) ?? "\u{FFFD}"
            buffer.append(contentsOf: scalar.utf8)
        default:
            throw failure(at: escapeStart, "invalid escape sequence in string; use \\\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t or \\uXXXX")
        }
    }

    private mutating func parseHex4(escapeStart: Int) throws(JSONSyntaxError) -> UInt16 {
        var value: UInt16 = 0
        for _ in 0..<4 {
            guard let byte = peek() else { throw unexpectedEnd(expecting: "4 hex digits after \\u") }
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure(at: escapeStart, "expected 4 hex digits after \\u")
            }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }

    private func hex(_ value: some FixedWidthInteger) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        let width = value.bitWidth / 4
        return String(repeating: "0", count: Swift.max(0, width - digits.count)) + digits
    }

    // MARK: - Helpers

    private func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    private mutating func skipWhitespace() {
        while let byte = peek(),
            byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\t")
        {
            index += 1
        }
    }

    /// The 1-based line and column (in Unicode scalars) of a byte offset.
    private func position(of offset: Int) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        var cursor = bomLength
        while cursor < offset, cursor < bytes.count {
            let byte = bytes[cursor]
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
            cursor += 1
        }
        return (line, column)
    }

    private func failure(at offset: Int, _ message: String) -> JSONSyntaxError {
        JSONSyntaxError(position(of: offset), message: message)
    }

    private func unexpectedEnd(expecting what: String) -> JSONSyntaxError {
        JSONSyntaxError(position(of: bytes.count), unexpectedEndExpecting: what)
    }
}

extension JSONSyntaxError {
    fileprivate init(_ position: (line: Int, column: Int), expected: String) {
        self.init(line: position.line, column: position.column, expected: expected)
    }

    fileprivate init(_ position: (line: Int, column: Int), message: String) {
        self.init(line: position.line, column: position.column, message: message)
    }

    fileprivate init(_ position: (line: Int, column: Int), unexpectedEndExpecting what: String) {
        self.init(line: position.line, column: position.column, unexpectedEndExpecting: what)
    }
}
