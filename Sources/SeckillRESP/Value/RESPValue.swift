/// A RESP2 or RESP3 value: what a Redis server replies, or what a test double sends.
///
/// RESP3 attributes (`|N`) have no case of their own: ``RESPDecoder`` reads and discards
/// them and returns the value they annotate, because nothing in this client acts on
/// out-of-band metadata and keeping them would make every consumer handle a wrapper.
///
/// Equality and hashing are structural, except that two ``double(_:)`` values that are
/// both NaN compare equal, so that decoded replies (and sets of them) behave predictably.
public enum RESPValue: Sendable, Hashable {
    /// A simple string, `+OK\r\n`. Must not contain CR or LF.
    case simpleString(String)
    /// An error reply, `-ERR message\r\n`: the whole line after the `-`, prefix included.
    case error(String)
    /// A signed 64-bit integer, `:42\r\n`.
    case integer(Int64)
    /// A binary-safe bulk string, `$3\r\nfoo\r\n`.
    case bulkString([UInt8])
    /// The RESP2 null bulk string, `$-1\r\n`.
    case nullBulkString
    /// An array of values, `*N\r\n` followed by N values.
    case array([RESPValue])
    /// The RESP2 null array, `*-1\r\n`.
    case nullArray
    /// The RESP3 null, `_\r\n`.
    case null
    /// A RESP3 boolean, `#t\r\n` or `#f\r\n`.
    case boolean(Bool)
    /// A RESP3 double, `,1.5\r\n`; `inf`, `-inf` and `nan` are allowed.
    case double(Double)
    /// A RESP3 big number, `(3492890328409238509324850943850943825024385\r\n`, kept as its decimal text.
    case bigNumber(String)
    /// A RESP3 bulk error, `!N\r\n` followed by N bytes.
    case bulkError([UInt8])
    // Indirect so this, the only two-payload case, does not widen every RESPValue (and so every array element).

    /// A RESP3 verbatim string, `=N\r\nfmt:text\r\n`.
    ///
    /// - Parameters:
    ///   - format: The three bytes before the `:`, such as `txt` or `mkd`.
    ///   - text: The bytes after the `:`.
    indirect case verbatimString(format: String, text: [UInt8])
    /// A RESP3 map, `%N\r\n`, flattened as key, value, key, value… (2N elements).
    case map([RESPValue])
    /// A RESP3 set, `~N\r\n` followed by N values.
    case set([RESPValue])
    /// A RESP3 push message, `>N\r\n` followed by N values.
    case push([RESPValue])
}

extension RESPValue {
    /// Returns whether two values are structurally equal (all NaN doubles being equal).
    ///
    /// - Parameters:
    ///   - lhs: A value.
    ///   - rhs: Another value.
    /// - Returns: `true` if both have the same case and equal payloads.
    public static func == (lhs: RESPValue, rhs: RESPValue) -> Bool {
        switch (lhs, rhs) {
        case (.simpleString(let a), .simpleString(let b)): return a == b
        case (.error(let a), .error(let b)): return a == b
        case (.integer(let a), .integer(let b)): return a == b
        case (.bulkString(let a), .bulkString(let b)): return a == b
        case (.nullBulkString, .nullBulkString): return true
        case (.array(let a), .array(let b)): return a == b
        case (.nullArray, .nullArray): return true
        case (.null, .null): return true
        case (.boolean(let a), .boolean(let b)): return a == b
        // Double's own == says nan != nan, which would make a decoded `,nan` unequal to itself.
        case (.double(let a), .double(let b)): return a == b || (a.isNaN && b.isNaN)
        case (.bigNumber(let a), .bigNumber(let b)): return a == b
        case (.bulkError(let a), .bulkError(let b)): return a == b
        case (.verbatimString(let f1, let t1), .verbatimString(let f2, let t2)): return f1 == f2 && t1 == t2
        case (.map(let a), .map(let b)): return a == b
        case (.set(let a), .set(let b)): return a == b
        case (.push(let a), .push(let b)): return a == b
        default: return false
        }
    }

    /// Feeds the case and its payload to `hasher`, consistently with ``==(_:_:)``.
    ///
    /// - Parameter hasher: The hasher to feed.
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .simpleString(let s):
            hasher.combine(0 as UInt8)
            hasher.combine(s)
        case .error(let s):
            hasher.combine(1 as UInt8)
            hasher.combine(s)
        case .integer(let i):
            hasher.combine(2 as UInt8)
            hasher.combine(i)
        case .bulkString(let b):
            hasher.combine(3 as UInt8)
            hasher.combine(b)
        case .nullBulkString: hasher.combine(4 as UInt8)
        case .array(let a):
            hasher.combine(5 as UInt8)
            hasher.combine(a)
        case .nullArray: hasher.combine(6 as UInt8)
        case .null: hasher.combine(7 as UInt8)
        case .boolean(let b):
            hasher.combine(8 as UInt8)
            hasher.combine(b)
        case .double(let d):
            hasher.combine(9 as UInt8)
            // Every NaN is equal to every other, so they must share one hash whatever their payload bits.
            hasher.combine(d.isNaN ? Double.nan : d)
        case .bigNumber(let s):
            hasher.combine(10 as UInt8)
            hasher.combine(s)
        case .bulkError(let b):
            hasher.combine(11 as UInt8)
            hasher.combine(b)
        case .verbatimString(let format, let text):
            hasher.combine(12 as UInt8)
            hasher.combine(format)
            hasher.combine(text)
        case .map(let a):
            hasher.combine(13 as UInt8)
            hasher.combine(a)
        case .set(let a):
            hasher.combine(14 as UInt8)
            hasher.combine(a)
        case .push(let a):
            hasher.combine(15 as UInt8)
            hasher.combine(a)
        }
    }
}
