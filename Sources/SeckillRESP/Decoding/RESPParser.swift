/// One decoding pass over a buffer, for ``RESPDecoder``.
///
/// Every method returns `nil` when the buffer ends before the piece it reads is complete,
/// and throws as soon as the bytes it has seen cannot be RESP. Since `nil` abandons the
/// whole pass, `index` only means something after a successful parse.
struct RESPParser {
    /// The received bytes; offsets in errors are indices into this buffer.
    let bytes: UnsafeBufferPointer<UInt8>
    let limits: RESPDecoder.Limits
    /// The next byte to read; after a successful `parseValue`, the number of bytes consumed.
    private(set) var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>, limits: RESPDecoder.Limits) {
        self.bytes = bytes
        self.limits = limits
    }

    /// Parses the value starting at `index`.
    ///
    /// - Parameter depth: The depth this value has if it is an aggregate (1 at the top level).
    ///   Checked before an aggregate's elements are parsed, so recursion stops at `maxDepth + 1`.
    mutating func parseValue(depth: Int) throws(RESPDecodingError) -> RESPValue? {
        // A loop rather than recursion for attributes, which come before the value they annotate
        // and may repeat: a stream of empty attributes must not grow the stack.
        while true {
            guard index < bytes.count else { return nil }
            let typeOffset = index
            let type = bytes[index]
            index += 1
            switch type {
            case ASCII.dollar:
                guard let length = try readBulkLength(allowsNull: true) else { return nil }
                if length < 0 { return .nullBulkString }
                guard let payload = try readBulkPayload(length: length) else { return nil }
                return .bulkString(copy(payload))
            case ASCII.star:
                guard let count = try readAggregateCount(typeOffset: typeOffset, depth: depth, allowsNull: true) else { return nil }
                if count < 0 { return .nullArray }
                return try readElements(count, depth: depth).map(RESPValue.array)
            case ASCII.plus:
                return try readLine().map { .simpleString(string($0)) }
            case ASCII.minus:
                return try readLine().map { .error(string($0)) }
            case ASCII.colon:
                return try readInteger(invalid: .invalidInteger).map(RESPValue.integer)
            case ASCII.underscore:
                return try readCRLF() ? .null : nil
            case ASCII.hash:
                return try readBoolean()
            case ASCII.comma:
                guard let line = try readLine() else { return nil }
                guard let value = parseDouble(line) else {
                    throw RESPDecodingError(kind: .invalidDouble, offset: line.lowerBound)
                }
                return .double(value)
            case ASCII.openParen:
                guard let line = try readLine() else { return nil }
                guard isBigNumber(line) else {
                    throw RESPDecodingError(kind: .invalidBigNumber, offset: line.lowerBound)
                }
                return .bigNumber(string(line))
            case ASCII.bang:
                guard let length = try readBulkLength(allowsNull: false) else { return nil }
                guard let payload = try readBulkPayload(length: length) else { return nil }
                return .bulkError(copy(payload))
            case ASCII.equals:
                return try readVerbatim()
            case ASCII.percent:
                guard let count = try readAggregateCount(typeOffset: typeOffset, depth: depth, allowsNull: false, pairs: true) else { return nil }
                return try readElements(count, depth: depth).map(RESPValue.map)
            case ASCII.tilde:
                guard let count = try readAggregateCount(typeOffset: typeOffset, depth: depth, allowsNull: false) else { return nil }
                return try readElements(count, depth: depth).map(RESPValue.set)
            case ASCII.greaterThan:
                guard let count = try readAggregateCount(typeOffset: typeOffset, depth: depth, allowsNull: false) else { return nil }
                return try readElements(count, depth: depth).map(RESPValue.push)
            case ASCII.pipe:
                guard let count = try readAggregateCount(typeOffset: typeOffset, depth: depth, allowsNull: false, pairs: true) else { return nil }
                // Attributes are parsed (to find where they end and to validate them) and dropped.
                for _ in 0..<count {
                    guard try parseValue(depth: depth + 1) != nil else { return nil }
                }
            default:
                throw RESPDecodingError(kind: .invalidTypeByte(type), offset: typeOffset)
            }
        }
    }

    // MARK: - Aggregates

    private mutating func readElements(_ count: Int, depth: Int) throws(RESPDecodingError) -> [RESPValue]? {
        var elements: [RESPValue] = []
        // The count is only a claim until the bytes arrive: reserve no more than the rest of the
        // buffer can hold (every value takes at least 3 bytes, like `_\r\n`), so `*16777216\r\n`
        // alone cannot make us allocate hundreds of megabytes.
        elements.reserveCapacity(min(count, (bytes.count - index) / 3))
        for _ in 0..<count {
            guard let element = try parseValue(depth: depth + 1) else { return nil }
            elements.append(element)
        }
        return elements
    }

    /// Reads an aggregate header's count and checks it and the depth against the limits.
    ///
    /// - Returns: The number of values that follow (twice the count for maps and attributes),
    ///   -1 for the null array, or `nil` if the header is incomplete.
    private mutating func readAggregateCount(
        typeOffset: Int,
        depth: Int,
        allowsNull: Bool,
        pairs: Bool = false
    ) throws(RESPDecodingError) -> Int? {
        let lengthOffset = index
        guard let count = try readLength(allowsNull: allowsNull) else { return nil }
        if count < 0 { return -1 }
        guard count <= limits.maxAggregateLength, !pairs || count <= Int64.max / 2 else {
            throw RESPDecodingError(kind: .aggregateTooLong(count), offset: lengthOffset)
        }
        guard depth <= limits.maxDepth else {
            throw RESPDecodingError(kind: .tooDeeplyNested, offset: typeOffset)
        }
        return Int(count) * (pairs ? 2 : 1)
    }

    // MARK: - Bulk payloads

    /// Reads a bulk length line and checks it against `maxBulkLength`; -1 means null.
    private mutating func readBulkLength(allowsNull: Bool) throws(RESPDecodingError) -> Int? {
        let lengthOffset = index
        guard let length = try readLength(allowsNull: allowsNull) else { return nil }
        // Checked before waiting for the payload, so an absurd length fails now instead of
        // making the caller buffer up to it.
        guard length <= limits.maxBulkLength || length < 0 else {
            throw RESPDecodingError(kind: .bulkTooLong(length), offset: lengthOffset)
        }
        return Int(length)
    }

    /// Reads `length` payload bytes and the CR LF that must follow them.
    private mutating func readBulkPayload(length: Int) throws(RESPDecodingError) -> Range<Int>? {
        let start = index
        // Compared by subtraction: `start + length` could overflow with a huge configured limit.
        let available = bytes.count - start
        guard available > length else { return nil }
        guard bytes[start + length] == ASCII.cr else {
            throw RESPDecodingError(kind: .missingCRLF, offset: start + length)
        }
        guard available - length > 1 else { return nil }
        guard bytes[start + length + 1] == ASCII.lf else {
            throw RESPDecodingError(kind: .missingCRLF, offset: start + length + 1)
        }
        index = start + length + 2
        return start..<(start + length)
    }

    private mutating func readVerbatim() throws(RESPDecodingError) -> RESPValue? {
        guard let length = try readBulkLength(allowsNull: false) else { return nil }
        let start = index
        // Checked as soon as the byte is there, not when the whole payload is.
        guard length >= 4, bytes.count - start <= 3 || bytes[start + 3] == ASCII.colon else {
            throw RESPDecodingError(kind: .invalidVerbatim, offset: start)
        }
        guard let payload = try readBulkPayload(length: length) else { return nil }
        let formatEnd = payload.lowerBound + 3
        return .verbatimString(
            format: string(payload.lowerBound..<formatEnd),
            text: copy((formatEnd + 1)..<payload.upperBound)
        )
    }

    // MARK: - Lines

    /// Reads a length or count: an integer where only -1 may be negative, and only if `allowsNull`.
    private mutating func readLength(allowsNull: Bool) throws(RESPDecodingError) -> Int64? {
        let lengthOffset = index
        guard let length = try readInteger(invalid: .invalidLength) else { return nil }
        if length < 0 && !(length == -1 && allowsNull) {
            throw RESPDecodingError(kind: .negativeLength(length), offset: lengthOffset)
        }
        return length
    }

    /// Reads an integer line, digit by digit, so that garbage fails before its CR LF arrives.
    ///
    /// - Parameter invalid: The kind to throw for a grammar violation or overflow.
    private mutating func readInteger(invalid: RESPDecodingError.Kind) throws(RESPDecodingError) -> Int64? {
        let end = bytes.count
        var i = index
        guard i < end else { return nil }
        let negative = bytes[i] == ASCII.minus
        if negative { i += 1 }
        var value: Int64 = 0
        var sawDigit = false
        while i < end {
            let byte = bytes[i]
            let digit = byte &- ASCII.zero
            if digit < 10 {
                let (shifted, o1) = value.multipliedReportingOverflow(by: 10)
                // Accumulate towards the sign so that Int64.min is reachable.
                let (next, o2) = negative
                    ? shifted.subtractingReportingOverflow(Int64(digit))
                    : shifted.addingReportingOverflow(Int64(digit))
                if o1 || o2 { throw RESPDecodingError(kind: invalid, offset: i) }
                value = next
                sawDigit = true
                i += 1
            } else if byte == ASCII.cr && sawDigit {
                guard i + 1 < end else { return nil }
                guard bytes[i + 1] == ASCII.lf else {
                    throw RESPDecodingError(kind: .missingCRLF, offset: i + 1)
                }
                index = i + 2
                return value
            } else if byte == ASCII.lf {
                throw RESPDecodingError(kind: .missingCRLF, offset: i)
            } else {
                throw RESPDecodingError(kind: invalid, offset: i)
            }
        }
        return nil
    }

    /// Reads a line's content up to its CR LF, rejecting CR or LF inside it.
    private mutating func readLine() throws(RESPDecodingError) -> Range<Int>? {
        let start = index
        let available = bytes.count - start
        // Scan no further than the longest allowed content plus its CR, so a peer that never
        // ends the line is caught instead of being buffered forever.
        let scanEnd = available > limits.maxLineLength ? start + limits.maxLineLength + 1 : bytes.count
        var i = start
        while i < scanEnd {
            let byte = bytes[i]
            // One comparison for the common case: CR (13) and LF (10) are both <= CR.
            if byte > ASCII.cr {
                i += 1
                continue
            }
            if byte == ASCII.cr {
                guard i + 1 < bytes.count else { return nil }
                guard bytes[i + 1] == ASCII.lf else {
                    throw RESPDecodingError(kind: .missingCRLF, offset: i + 1)
                }
                index = i + 2
                return start..<i
            }
            if byte == ASCII.lf {
                throw RESPDecodingError(kind: .missingCRLF, offset: i)
            }
            i += 1
        }
        if available > limits.maxLineLength {
            throw RESPDecodingError(kind: .lineTooLong, offset: start)
        }
        return nil
    }

    /// Reads the CR LF that ends a fixed-size line such as `_\r\n`; `false` if it has not arrived.
    private mutating func readCRLF() throws(RESPDecodingError) -> Bool {
        guard index < bytes.count else { return false }
        guard bytes[index] == ASCII.cr else {
            throw RESPDecodingError(kind: .missingCRLF, offset: index)
        }
        guard index + 1 < bytes.count else { return false }
        guard bytes[index + 1] == ASCII.lf else {
            throw RESPDecodingError(kind: .missingCRLF, offset: index + 1)
        }
        index += 2
        return true
    }

    private mutating func readBoolean() throws(RESPDecodingError) -> RESPValue? {
        guard index < bytes.count else { return nil }
        let value: Bool
        switch bytes[index] {
        case ASCII.lowerT: value = true
        case ASCII.lowerF: value = false
        default: throw RESPDecodingError(kind: .invalidBoolean, offset: index)
        }
        index += 1
        return try readCRLF() ? .boolean(value) : nil
    }

    // MARK: - Text

    private func copy(_ range: Range<Int>) -> [UInt8] {
        Array(UnsafeBufferPointer(rebasing: bytes[range]))
    }

    private func string(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte &- ASCII.zero < 10
    }

    /// Parses the RESP3 double grammar: `[+-]digits[.digits][(e|E)[+-]digits]`, or `inf`/`nan` with an optional sign.
    private func parseDouble(_ range: Range<Int>) -> Double? {
        var i = range.lowerBound
        let end = range.upperBound
        var sign: Double = 1
        if i < end && (bytes[i] == ASCII.minus || bytes[i] == ASCII.plus) {
            if bytes[i] == ASCII.minus { sign = -1 }
            i += 1
        }
        if end - i == 3 {
            // Lowercasing with | 0x20 so that servers printing `INF` or `NaN` are understood too.
            let word = (bytes[i] | 0x20, bytes[i + 1] | 0x20, bytes[i + 2] | 0x20)
            if word == (UInt8(ascii: "i"), UInt8(ascii: "n"), UInt8(ascii: "f")) { return sign * .infinity }
            if word == (UInt8(ascii: "n"), UInt8(ascii: "a"), UInt8(ascii: "n")) { return .nan }
        }
        var mantissaDigits = 0
        while i < end && isDigit(bytes[i]) { i += 1; mantissaDigits += 1 }
        if i < end && bytes[i] == UInt8(ascii: ".") {
            i += 1
            while i < end && isDigit(bytes[i]) { i += 1; mantissaDigits += 1 }
        }
        guard mantissaDigits > 0 else { return nil }
        if i < end && (bytes[i] | 0x20) == UInt8(ascii: "e") {
            i += 1
            if i < end && (bytes[i] == ASCII.minus || bytes[i] == ASCII.plus) { i += 1 }
            let exponentStart = i
            while i < end && isDigit(bytes[i]) { i += 1 }
            guard i > exponentStart else { return nil }
        }
        guard i == end else { return nil }
        // The grammar is checked above because Double(String) also accepts hex floats and "infinity".
        return Double(string(range))
    }

    /// Whether the range is an optional sign followed by one or more digits.
    private func isBigNumber(_ range: Range<Int>) -> Bool {
        var i = range.lowerBound
        if i < range.upperBound && (bytes[i] == ASCII.minus || bytes[i] == ASCII.plus) { i += 1 }
        guard i < range.upperBound else { return false }
        while i < range.upperBound {
            guard isDigit(bytes[i]) else { return false }
            i += 1
        }
        return true
    }
}
