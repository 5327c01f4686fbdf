/// A JSON value as parsed by ``JSONValue/parse(_:)``: strict RFC 8259, objects keep
/// their key order, numbers keep their literal text.
///
/// This small parser exists because Foundation's `JSONDecoder` can neither reject
/// unknown fields nor say on which line and column a syntax error is.
public enum JSONValue: Sendable, Hashable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number, kept as written so big integers never truncate silently.
    case number(JSONNumber)
    /// A string, unescaped.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object, with its members in document order and no duplicate keys.
    case object(JSONObject)

    /// Parses one JSON document (RFC 8259): a single value surrounded by optional
    /// whitespace. A leading UTF-8 byte order mark is skipped.
    ///
    /// Rejected: comments, trailing commas, single quotes, leading zeros, `NaN`,
    /// control characters in strings, invalid UTF-8, lone surrogate escapes, duplicate
    /// object keys and nesting deeper than `maxDepth`.
    ///
    /// - Parameters:
    ///   - bytes: The UTF-8 encoded document.
    ///   - maxDepth: The deepest nesting of arrays and objects accepted.
    /// - Returns: The parsed value.
    /// - Throws: ``JSONSyntaxError`` with the 1-based line and column of the problem.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 128) throws(JSONSyntaxError) -> JSONValue {
        var parser = JSONParser(bytes: bytes, maxDepth: maxDepth)
        return try parser.parseDocument()
    }

    /// Parses one JSON document from a string; see ``parse(_:maxDepth:)``.
    ///
    /// - Parameters:
    ///   - text: The document.
    ///   - maxDepth: The deepest nesting of arrays and objects accepted.
    /// - Returns: The parsed value.
    /// - Throws: ``JSONSyntaxError`` with the 1-based line and column of the problem.
    public static func parse(_ text: String, maxDepth: Int = 128) throws(JSONSyntaxError) -> JSONValue {
        try parse(Array(text.utf8), maxDepth: maxDepth)
    }

    /// A short phrase naming the kind of value, for error messages: "a string",
    /// "an integer", "a number", "a boolean", "null", "an array", "an object".
    public var kindDescription: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number(let number): number.isInteger ? "an integer" : "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// The member value for `key` when this is an object, otherwise `nil`.
    ///
    /// - Parameter key: The member name.
    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { object[key] } else { nil }
    }

    /// The element at `index` when this is an array and the index is valid, otherwise `nil`.
    ///
    /// - Parameter index: The element position.
    public subscript(index: Int) -> JSONValue? {
        if case .array(let array) = self, array.indices.contains(index) { array[index] } else { nil }
    }
}

extension JSONValue: CustomStringConvertible {
    /// The value as compact JSON text that ``JSONValue/parse(_:maxDepth:)`` reads back.
    public var description: String {
        JSONWriter.compact(self)
    }
}
