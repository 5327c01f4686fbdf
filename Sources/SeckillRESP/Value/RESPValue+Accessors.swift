extension RESPValue {
    /// The value as text: simple strings, bulk strings and the text of verbatim strings.
    ///
    /// Bytes that are not valid UTF-8 are replaced with U+FFFD. `nil` for every other case,
    /// including errors (see ``errorMessage``) and nulls.
    public var string: String? {
        switch self {
        case .simpleString(let s): return s
        case .bulkString(let b): return String(decoding: b, as: UTF8.self)
        case .verbatimString(_, let text): return String(decoding: text, as: UTF8.self)
        default: return nil
        }
    }

    /// The value as raw bytes: bulk strings, the UTF-8 of simple strings, and the text of verbatim strings.
    ///
    /// `nil` for every other case, including errors and nulls.
    public var bytes: [UInt8]? {
        switch self {
        case .bulkString(let b): return b
        case .simpleString(let s): return Array(s.utf8)
        case .verbatimString(_, let text): return text
        default: return nil
        }
    }

    /// The value as an integer: integers, and simple or bulk strings holding one.
    ///
    /// Strings must follow the RESP integer grammar (an optional `-` then decimal digits, no
    /// `+`, no spaces, within `Int64`), which is also what Redis accepts for `INCRBY` and friends.
    public var int: Int64? {
        switch self {
        case .integer(let i): return i
        case .bulkString(let b): return ASCII.parseInteger(b)
        case .simpleString(let s): return ASCII.parseInteger(s.utf8)
        default: return nil
        }
    }

    /// The elements of an array, set or push message, or the flattened key, value… pairs of a map.
    ///
    /// `nil` for scalars and for the null array.
    public var array: [RESPValue]? {
        switch self {
        case .array(let a), .set(let a), .push(let a), .map(let a): return a
        default: return nil
        }
    }

    /// Whether the value is a null of any protocol version: `$-1`, `*-1` or `_`.
    public var isNull: Bool {
        switch self {
        case .nullBulkString, .nullArray, .null: return true
        default: return false
        }
    }

    /// The message of an error or bulk error reply (bulk error bytes decoded as lossy UTF-8).
    ///
    /// `nil` for every value that is not an error.
    public var errorMessage: String? {
        switch self {
        case .error(let message): return message
        case .bulkError(let b): return String(decoding: b, as: UTF8.self)
        default: return nil
        }
    }
}
