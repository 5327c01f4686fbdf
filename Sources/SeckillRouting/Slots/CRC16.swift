/// CRC16-XMODEM, the checksum Redis Cluster uses to place keys in hash slots.
///
/// Polynomial 0x1021, initial value 0, no input or output reflection, no final XOR
/// (also known as CRC-16/XMODEM, CRC-16/ACORN). `checksum("123456789") == 0x31C3`.
/// The implementation is table driven, one table lookup per byte.
public enum CRC16 {
    /// The 256-entry lookup table, computed once on first use.
    @usableFromInline
    static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index) << 8
        for _ in 0..<8 {
            crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
        }
        return crc
    }

    /// Computes the CRC16-XMODEM checksum of raw bytes.
    ///
    /// - Parameter bytes: The bytes to checksum; may be empty.
    /// - Returns: The checksum; 0 for empty input.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        table.withUnsafeBufferPointer { table in
            var crc: UInt16 = 0
            for byte in bytes {
                crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
            }
            return crc
        }
    }

    /// Computes the CRC16-XMODEM checksum of a sequence of bytes.
    ///
    /// Contiguous sequences (arrays, `String.UTF8View` of native strings, slices of
    /// those) take the raw-buffer path; other sequences are walked byte by byte.
    /// Neither path allocates.
    ///
    /// - Parameter bytes: The bytes to checksum.
    /// - Returns: The checksum; 0 for an empty sequence.
    @inlinable
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt16 {
        if let crc = bytes.withContiguousStorageIfAvailable({ checksum(UnsafeRawBufferPointer($0)) }) {
            return crc
        }
        var crc: UInt16 = 0
        for byte in bytes {
            crc = update(crc, with: byte)
        }
        return crc
    }

    /// Computes the CRC16-XMODEM checksum of a string's UTF-8 bytes.
    ///
    /// - Parameter string: The string whose UTF-8 encoding is checksummed.
    /// - Returns: The checksum.
    @inlinable
    public static func checksum(_ string: String) -> UInt16 {
        checksum(string.utf8)
    }

    /// Feeds one more byte into a running checksum.
    ///
    /// - Parameters:
    ///   - crc: The checksum of the bytes so far (start with 0).
    ///   - byte: The next byte.
    /// - Returns: The checksum including `byte`.
    @inlinable
    public static func update(_ crc: UInt16, with byte: UInt8) -> UInt16 {
        (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
    }
}
