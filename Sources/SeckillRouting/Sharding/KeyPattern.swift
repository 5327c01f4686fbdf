/// A deterministic generator of item keys of a realistic shape, for checking how keys
/// spread over nodes (``DistributionReport``) and for load tests.
///
/// Key `i` is a pure function of the pattern and `i`, so runs are reproducible:
/// - ``template(_:)``: every `%d` replaced by `i`, e.g. `item:{%d}` → `item:{42}`;
/// - ``sequential``: `item:0`, `item:1`, ...;
/// - ``uuid(seed:)``: lowercase version-4 UUID strings from a seeded SplitMix64;
/// - ``sku(year:)``: `SKU-2026-000123` (at least 6 digits).
///
/// Parse the command-line form with ``init(parsing:)``.
public struct KeyPattern: Sendable, Hashable, CustomStringConvertible {
    private enum Shape: Sendable, Hashable {
        case template(text: String, parts: [[UInt8]])
        case sequential
        case uuid(seed: UInt64)
        case sku(year: Int)
    }

    private let shape: Shape

    private init(_ shape: Shape) {
        self.shape = shape
    }

    /// `item:0`, `item:1`, ...
    public static let sequential = KeyPattern(.sequential)

    /// Pseudo-random UUID strings such as `1b4e28ba-2fa1-41d2-883f-0016d3cca427`.
    ///
    /// - Parameter seed: Selects the sequence; equal seeds give equal keys.
    /// - Returns: The pattern.
    public static func uuid(seed: UInt64 = 0) -> KeyPattern {
        KeyPattern(.uuid(seed: seed))
    }

    /// Stock-keeping-unit codes `SKU-<year>-<index, 6 digits or more>`.
    ///
    /// - Parameter year: The year part, 0...9999.
    /// - Returns: The pattern.
    public static func sku(year: Int = 2026) -> KeyPattern {
        precondition((0...9999).contains(year), "sku(year:) needs a year in 0...9999")
        return KeyPattern(.sku(year: year))
    }

    /// A template in which every `%d` is replaced by the key's index.
    ///
    /// - Parameter text: The template, e.g. `item:{%d}` or `stock:{sku-%d}`.
    /// - Returns: The pattern.
    /// - Throws: ``ConfigError`` with code ``ConfigError/Code/invalidArgument`` when the
    ///   template has no `%d` (every key would be the same).
    public static func template(_ text: String) throws(ConfigError) -> KeyPattern {
        let bytes = Array(text.utf8)
        var parts: [[UInt8]] = [[]]
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "d") {
                parts.append([])
                index += 2
            } else {
                parts[parts.count - 1].append(bytes[index])
                index += 1
            }
        }
        guard parts.count > 1 else {
            throw ConfigError(
                .invalidArgument, "key pattern \(JSONWriter.quoted(text)) has no %d, so every key would be the same; write e.g. item:{%d}")
        }
        return KeyPattern(.template(text: text, parts: parts))
    }

    /// Parses the command-line form: `sequential`, `uuid`, `uuid:SEED`, `sku`,
    /// `sku:YEAR`, or a template containing `%d`.
    ///
    /// - Parameter text: The pattern text.
    /// - Throws: ``ConfigError`` with code ``ConfigError/Code/invalidArgument`` for
    ///   anything else.
    public init(parsing text: String) throws(ConfigError) {
        let usage = "use sequential, uuid[:SEED], sku[:YEAR] or a template containing %d such as item:{%d}"
        if text.contains("%d") {
            self = try .template(text)
            return
        }
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let argument = parts.count > 1 ? String(parts[1]) : nil
        switch parts[0] {
        case "sequential" where argument == nil:
            self = .sequential
        case "uuid":
            guard let argument else {
                self = .uuid()
                return
            }
            guard let seed = UInt64(argument) else {
                throw ConfigError(.invalidArgument, "key pattern \(JSONWriter.quoted(text)): the seed must be a non-negative integer")
            }
            self = .uuid(seed: seed)
        case "sku":
            guard let argument else {
                self = .sku()
                return
            }
            guard let year = Int(argument), (0...9999).contains(year) else {
                throw ConfigError(.invalidArgument, "key pattern \(JSONWriter.quoted(text)): the year must be 0-9999")
            }
            self = .sku(year: year)
        default:
            throw ConfigError(.invalidArgument, "unknown key pattern \(JSONWriter.quoted(text)); \(usage)")
        }
    }

    /// Key number `index`.
    ///
    /// - Parameter index: The key's index, 0 or more.
    /// - Returns: The key.
    public func key(at index: Int) -> String {
        var bytes: [UInt8] = []
        appendKey(at: index, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The first `count` keys.
    ///
    /// - Parameter count: How many keys.
    /// - Returns: Keys `0..<count`.
    public func keys(count: Int) -> [String] {
        (0..<count).map(key(at:))
    }

    /// Appends key number `index` to a byte buffer, so callers can reuse one buffer and
    /// generate millions of keys without allocating.
    ///
    /// - Parameters:
    ///   - index: The key's index, 0 or more.
    ///   - bytes: The buffer to append to.
    public func appendKey(at index: Int, to bytes: inout [UInt8]) {
        precondition(index >= 0, "key index must not be negative")
        switch shape {
        case .template(_, let parts):
            bytes.append(contentsOf: parts[0])
            for part in parts.dropFirst() {
                Self.appendDecimal(index, minimumDigits: 1, to: &bytes)
                bytes.append(contentsOf: part)
            }
        case .sequential:
            bytes.append(contentsOf: "item:".utf8)
            Self.appendDecimal(index, minimumDigits: 1, to: &bytes)
        case .uuid(let seed):
            var state = (seed &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(index)
            let high = (Self.splitMix(&state) & ~0xF000) | 0x4000
            let low = (Self.splitMix(&state) & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
            Self.appendHex(high >> 32, digits: 8, to: &bytes)
            bytes.append(UInt8(ascii: "-"))
            Self.appendHex(high >> 16, digits: 4, to: &bytes)
            bytes.append(UInt8(ascii: "-"))
            Self.appendHex(high, digits: 4, to: &bytes)
            bytes.append(UInt8(ascii: "-"))
            Self.appendHex(low >> 48, digits: 4, to: &bytes)
            bytes.append(UInt8(ascii: "-"))
            Self.appendHex(low, digits: 12, to: &bytes)
        case .sku(let year):
            bytes.append(contentsOf: "SKU-".utf8)
            Self.appendDecimal(year, minimumDigits: 4, to: &bytes)
            bytes.append(UInt8(ascii: "-"))
            Self.appendDecimal(index, minimumDigits: 6, to: &bytes)
        }
    }

    /// The command-line form, which ``init(parsing:)`` reads back.
    public var description: String {
        switch shape {
        case .template(let text, _): text
        case .sequential: "sequential"
        case .uuid(let seed): "uuid:\(seed)"
        case .sku(let year): "sku:\(year)"
        }
    }

    // MARK: - Formatting without allocation

    private static func appendDecimal(_ value: Int, minimumDigits: Int, to bytes: inout [UInt8]) {
        var remaining = value.magnitude
        var digits = 1
        var probe = remaining
        while probe >= 10 {
            probe /= 10
            digits += 1
        }
        let width = max(digits, minimumDigits)
        bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width))
        var position = bytes.count - 1
        repeat {
            bytes[position] = UInt8(ascii: "0") + UInt8(remaining % 10)
            remaining /= 10
            position -= 1
        } while remaining > 0
    }

    private static func appendHex(_ value: UInt64, digits: Int, to bytes: inout [UInt8]) {
        let alphabet: StaticString = "0123456789abcdef"
        alphabet.withUTF8Buffer { alphabet in
            for shift in stride(from: (digits - 1) * 4, through: 0, by: -4) {
                bytes.append(alphabet[Int((value >> UInt64(shift)) & 0xF)])
            }
        }
    }

    private static func splitMix(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
