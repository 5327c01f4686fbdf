/// Byte constants and hand-written decimal conversion shared by the encoder, the decoder and commands.
///
/// Decimal text is produced and parsed by hand because `String(int)` and `Int(string)`
/// allocate and go through Unicode handling, which shows up on a path that runs for every
/// argument of every command.
enum ASCII {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let minus = UInt8(ascii: "-")
    static let plus = UInt8(ascii: "+")
    static let zero = UInt8(ascii: "0")
    static let colon = UInt8(ascii: ":")
    static let dollar = UInt8(ascii: "$")
    static let star = UInt8(ascii: "*")
    static let underscore = UInt8(ascii: "_")
    static let hash = UInt8(ascii: "#")
    static let comma = UInt8(ascii: ",")
    static let openParen = UInt8(ascii: "(")
    static let bang = UInt8(ascii: "!")
    static let equals = UInt8(ascii: "=")
    static let percent = UInt8(ascii: "%")
    static let tilde = UInt8(ascii: "~")
    static let greaterThan = UInt8(ascii: ">")
    static let pipe = UInt8(ascii: "|")
    static let lowerT = UInt8(ascii: "t")
    static let lowerF = UInt8(ascii: "f")

    /// Appends `\r\n`.
    @inline(__always)
    static func appendCRLF(to buffer: inout [UInt8]) {
        buffer.append(cr)
        buffer.append(lf)
    }

    /// Writes `byte` at `scratch[used]` and advances `used`.
    @inline(__always)
    static func put(_ byte: UInt8, into scratch: UnsafeMutableBufferPointer<UInt8>, at used: inout Int) {
        scratch[used] = byte
        used += 1
    }

    /// Writes `\r\n` at `scratch[used]` and advances `used`.
    @inline(__always)
    static func putCRLF(into scratch: UnsafeMutableBufferPointer<UInt8>, at used: inout Int) {
        scratch[used] = cr
        scratch[used + 1] = lf
        used += 2
    }

    /// Writes `value` in decimal at `scratch[used]` (room for 20 digits needed) and advances `used`.
    static func putDecimal(_ value: UInt64, into scratch: UnsafeMutableBufferPointer<UInt8>, at used: inout Int) {
        let digits = digitCount(value)
        var rest = value
        var index = used + digits
        repeat {
            index -= 1
            scratch[index] = zero &+ UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
        } while rest > 0
        used += digits
    }

    /// The number of decimal digits of `value` (1 for zero).
    static func digitCount(_ value: UInt64) -> Int {
        var count = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            count += 1
        }
        return count
    }

    /// The number of bytes `appendDecimal` writes for `value`, sign included.
    static func decimalByteCount(_ value: Int64) -> Int {
        digitCount(value.magnitude) + (value < 0 ? 1 : 0)
    }

    /// Appends `value` in decimal, with a leading `-` when negative.
    static func appendDecimal(_ value: Int64, to buffer: inout [UInt8]) {
        // Most lengths and counts are one digit; skip the scratch buffer for them.
        if value >= 0 && value < 10 {
            buffer.append(zero &+ UInt8(truncatingIfNeeded: value))
            return
        }
        // Most of the rest are two (a user id's or request id's length).
        if value >= 10 && value < 100 {
            buffer.append(zero &+ UInt8(truncatingIfNeeded: value / 10))
            buffer.append(zero &+ UInt8(truncatingIfNeeded: value % 10))
            return
        }
        if value < 0 { buffer.append(minus) }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { scratch in
            var used = 0
            // magnitude, not negation, so Int64.min does not trap.
            putDecimal(value.magnitude, into: scratch, at: &used)
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[..<used]))
        }
    }

    /// Parses the RESP integer grammar: an optional `-`, then one or more decimal digits, within `Int64`.
    ///
    /// - Parameter text: The bytes to parse, with nothing before or after the number.
    /// - Returns: The value, or `nil` if `text` does not follow the grammar or overflows.
    static func parseInteger(_ text: some Collection<UInt8>) -> Int64? {
        var iterator = text.makeIterator()
        guard var byte = iterator.next() else { return nil }
        let negative = byte == minus
        if negative {
            guard let next = iterator.next() else { return nil }
            byte = next
        }
        var value: Int64 = 0
        while true {
            let digit = byte &- zero
            guard digit < 10 else { return nil }
            let (shifted, o1) = value.multipliedReportingOverflow(by: 10)
            // Accumulate towards the sign so Int64.min parses without overflowing.
            let (next, o2) =
                negative
                ? shifted.subtractingReportingOverflow(Int64(digit))
                : shifted.addingReportingOverflow(Int64(digit))
            if o1 || o2 { return nil }
            value = next
            guard let following = iterator.next() else { return value }
            byte = following
        }
    }
}
