/// A Redis Cluster hash slot: `CRC16(key) mod 16384`, honouring hash tags.
///
/// Hash tags follow Redis Cluster exactly: when a key contains `{` and, after that
/// first `{`, a `}` with at least one byte in between, only the bytes between the first
/// `{` and the first `}` after it are hashed. Otherwise the whole key is hashed. So
/// `{user1000}.following` and `{user1000}.followers` share a slot, `foo{}{bar}` hashes
/// the whole key, `foo{{bar}}zap` hashes `{bar` and `foo{bar}{zap}` hashes `bar`.
///
/// Keys are bytes: NUL, invalid UTF-8 and braces anywhere are all fine. Computing a
/// slot never allocates.
public struct HashSlot: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The slot number, always in `0..<16384`.
    public let rawValue: UInt16

    /// The number of hash slots in a Redis Cluster: 16384.
    public static let count = 16384

    /// The lowest slot, 0.
    public static let min = HashSlot(unchecked: 0)

    /// The highest slot, 16383.
    public static let max = HashSlot(unchecked: 16383)

    /// Creates a slot from its number.
    ///
    /// - Parameter value: The slot number.
    /// - Returns: `nil` when `value` is outside `0..<16384`.
    public init?(_ value: Int) {
        guard value >= 0, value < Self.count else { return nil }
        self.rawValue = UInt16(value)
    }

    @usableFromInline
    init(unchecked rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// Computes the slot of a key given as raw bytes.
    ///
    /// - Parameter bytes: The key's bytes.
    public init(keyBytes bytes: UnsafeRawBufferPointer) {
        let tag = Self.hashedRange(of: bytes)
        let crc = CRC16.checksum(UnsafeRawBufferPointer(rebasing: bytes[tag]))
        self.init(unchecked: crc & 0x3FFF)
    }

    /// Computes the slot of a key given as a collection of bytes (`[UInt8]`,
    /// `ArraySlice<UInt8>`, `Substring.UTF8View`, ...).
    ///
    /// - Parameter key: The key's bytes.
    @inlinable
    public init(key: some Collection<UInt8>) {
        if let slot = key.withContiguousStorageIfAvailable({ HashSlot(keyBytes: UnsafeRawBufferPointer($0)) }) {
            self = slot
        } else {
            self = HashSlot(genericKey: key)
        }
    }

    /// Computes the slot of a key given as a string; its UTF-8 bytes are hashed.
    ///
    /// - Parameter key: The key.
    @inlinable
    public init(key: String) {
        self.init(key: key.utf8)
    }

    /// The slot of a non-contiguous key, walking its indices (no copy).
    @usableFromInline
    init<Key: Collection<UInt8>>(genericKey key: Key) {
        var hashed = key.startIndex..<key.endIndex
        if let open = key.firstIndex(of: UInt8(ascii: "{")) {
            let afterOpen = key.index(after: open)
            if let close = key[afterOpen...].firstIndex(of: UInt8(ascii: "}")), close != afterOpen {
                hashed = afterOpen..<close
            }
        }
        var crc: UInt16 = 0
        for byte in key[hashed] {
            crc = CRC16.update(crc, with: byte)
        }
        self.init(unchecked: crc & 0x3FFF)
    }

    /// The byte range of `bytes` that Redis Cluster hashes: the hash tag when there is a
    /// non-empty one, otherwise the whole key.
    ///
    /// - Parameter bytes: The key's bytes.
    /// - Returns: Offsets into `bytes` of the bytes to hash.
    public static func hashedRange(of bytes: UnsafeRawBufferPointer) -> Range<Int> {
        let count = bytes.count
        var open = 0
        while open < count, bytes[open] != UInt8(ascii: "{") {
            open += 1
        }
        guard open < count else { return 0..<count }
        var close = open + 1
        while close < count, bytes[close] != UInt8(ascii: "}") {
            close += 1
        }
        guard close < count, close > open + 1 else { return 0..<count }
        return (open + 1)..<close
    }

    /// The slot number in decimal.
    public var description: String {
        String(rawValue)
    }

    /// Orders slots by number.
    ///
    /// - Parameters:
    ///   - lhs: A slot.
    ///   - rhs: Another slot.
    /// - Returns: Whether `lhs` has the lower number.
    public static func < (lhs: HashSlot, rhs: HashSlot) -> Bool {
        lhs.rawValue < rhs.rawValue
    }
}
