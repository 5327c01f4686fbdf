/// Where a partly received value stopped, so that the next pass continues from there.
///
/// Offsets count from the first byte of the value being decoded, which stays the first byte
/// of every buffer handed to the parser until the value is complete.
struct RESPParseState: Sendable {
    /// Aggregates whose header has been read and whose elements are still arriving, outermost first.
    var frames: [Frame] = []
    /// The next byte no element has claimed yet: the start of the next value (or of the
    /// payload in ``pendingBulk``).
    var cursor = 0
    /// A bulk header that has been read whose payload has not fully arrived.
    var pendingBulk: PendingBulk?
    /// For a line value starting at `cursor` whose CR LF has not arrived: how far the scan
    /// for CR got, so the line is not scanned again from its start.
    var lineScanned = 0
    /// Bytes examined since the decoder was created (a byte may be examined again only
    /// when the piece it belongs to, a line or a header, was incomplete).
    var examined = 0
    /// Bytes of the value the caller has dropped from the front of its buffer since the value
    /// started (``RESPStreamDecoder/release(_:)``); offsets above count from what is left.
    var released = 0

    /// An aggregate being filled.
    struct Frame: Sendable {
        var kind: AggregateKind
        /// Values still to come (twice the pair count for maps and attributes).
        var remaining: Int
        var elements: [RESPValue]
    }

    enum AggregateKind: Sendable {
        case array, map, set, push
        /// Parsed to find where it ends and dropped: the value it annotates follows it.
        case attribute
    }

    /// A bulk string, bulk error or verbatim string whose length is known.
    struct PendingBulk: Sendable {
        var type: UInt8
        var payloadStart: Int
        var length: Int
        /// For a bulk string of at least ``RESPParseState/incrementalCopyLength`` bytes: the
        /// payload bytes received so far, copied as they arrive so that completing a large
        /// value does not copy all of it at once (one long pause for whoever shares the thread).
        var received: [UInt8]?
    }

    /// Bulk strings this long or longer are copied into their value as they arrive.
    static let incrementalCopyLength = 64 * 1024

    /// Forgets the partial value; `examined` keeps counting.
    mutating func reset() {
        frames.removeAll()
        cursor = 0
        pendingBulk = nil
        lineScanned = 0
        released = 0
    }

    /// The bytes at the start of the buffer that no later pass reads: the headers and elements
    /// already decoded into frames, and the part of a large bulk string already copied.
    var releasable: Int {
        if let pending = pendingBulk, let received = pending.received {
            return pending.payloadStart + received.count
        }
        return cursor
    }

    /// Shifts every offset after the caller dropped `count` bytes from the front of its buffer.
    mutating func release(_ count: Int) {
        cursor -= count
        pendingBulk?.payloadStart -= count
        lineScanned = max(0, lineScanned - count)
        released += count
    }
}

/// One decoding pass over a buffer, for ``RESPDecoder`` and ``RESPStreamDecoder``.
///
/// The pass starts from ``RESPParseState``: nothing for a new value, or where an earlier pass
/// over a shorter prefix of the same bytes stopped. Each piece (a line, a header, a bulk
/// payload) is either read whole, advancing the state, or left for the next pass; so a value
/// arriving in many reads costs one pass over its bytes, not one per read. Every method
/// returns `nil` when the buffer ends before the piece it reads is complete, and throws as
/// soon as the bytes it has seen cannot be RESP.
struct RESPParser {
    /// The received bytes, from the first byte of the value; offsets in errors are indices into this buffer.
    let bytes: UnsafeBufferPointer<UInt8>
    let limits: RESPDecoder.Limits
    /// Where the value stands; moved in and out by the decoder, so it is never shared while mutated.
    var state: RESPParseState
    /// The next byte to read inside the piece being parsed.
    private var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>, limits: RESPDecoder.Limits, state: RESPParseState = RESPParseState()) {
        self.bytes = bytes
        self.limits = limits
        self.state = state
    }

    /// What reading at the cursor produced.
    private enum Step {
        /// A complete value: a scalar, a bulk string, a null or an empty aggregate.
        case value(RESPValue)
        /// An aggregate header (its elements follow) or an empty attribute.
        case opened
    }

    /// Continues the value from ``RESPParseState/cursor``.
    ///
    /// - Returns: The complete value (its length is then `state.cursor`), or `nil` if the
    ///   buffer ends first; the state then says where to continue.
    mutating func parseValue() throws(RESPDecodingError) -> RESPValue? {
        // A loop over an explicit stack rather than recursion: depth costs no call stack, and
        // a partial aggregate survives between passes.
        while true {
            guard let step = try parseStep() else { return nil }
            guard case .value(var value) = step else { continue }
            while true {
                let top = state.frames.count - 1
                if top < 0 { return value }
                if state.frames[top].kind != .attribute {
                    state.frames[top].elements.append(value)
                }
                state.frames[top].remaining -= 1
                if state.frames[top].remaining > 0 { break }
                let frame = state.frames.removeLast()
                // A finished attribute yields nothing: the value it annotates comes next.
                guard let closed = Self.value(of: frame) else { break }
                value = closed
            }
        }
    }

    private static func value(of frame: RESPParseState.Frame) -> RESPValue? {
        switch frame.kind {
        case .array: .array(frame.elements)
        case .map: .map(frame.elements)
        case .set: .set(frame.elements)
        case .push: .push(frame.elements)
        case .attribute: nil
        }
    }

    /// Reads one piece at the cursor: a whole scalar, a whole bulk value, or an aggregate header.
    private mutating func parseStep() throws(RESPDecodingError) -> Step? {
        if state.pendingBulk != nil {
            return try finishBulk().map(Step.value)
        }
        let typeOffset = state.cursor
        guard typeOffset < bytes.count else { return nil }
        // The depth this value has if it is an aggregate (1 at the top level).
        let depth = state.frames.count + 1
        let type = bytes[typeOffset]
        state.examined += 1
        index = typeOffset + 1
        let value: RESPValue
        switch type {
        case ASCII.dollar, ASCII.bang, ASCII.equals:
            guard let length = try readBulkLength(allowsNull: type == ASCII.dollar) else { return nil }
            if length < 0 {
                value = .nullBulkString
                break
            }
            if type == ASCII.equals && length < 4 {
                throw RESPDecodingError(kind: .invalidVerbatim, offset: index)
            }
            var pending = RESPParseState.PendingBulk(type: type, payloadStart: index, length: length)
            if type == ASCII.dollar && length >= RESPParseState.incrementalCopyLength {
                // Reserved whole (the length is within maxBulkLength): untouched pages cost
                // nothing, and growing by doubling would copy half the payload at once at the end.
                var received: [UInt8] = []
                received.reserveCapacity(length)
                pending.received = received
            }
            state.pendingBulk = pending
            state.cursor = index
            return try finishBulk().map(Step.value)
        case ASCII.star, ASCII.percent, ASCII.tilde, ASCII.greaterThan, ASCII.pipe:
            let pairs = type == ASCII.percent || type == ASCII.pipe
            guard
                let count = try readAggregateCount(
                    typeOffset: typeOffset, depth: depth, allowsNull: type == ASCII.star, pairs: pairs
                )
            else { return nil }
            advance()
            if count < 0 { return .value(.nullArray) }
            let kind: RESPParseState.AggregateKind =
                switch type {
                case ASCII.star: .array
                case ASCII.percent: .map
                case ASCII.tilde: .set
                case ASCII.greaterThan: .push
                default: .attribute
                }
            var frame = RESPParseState.Frame(kind: kind, remaining: count, elements: [])
            if count == 0 {
                return Self.value(of: frame).map(Step.value) ?? .opened
            }
            if kind != .attribute {
                // The count is only a claim until the bytes arrive: reserve no more than the rest
                // of the buffer can hold (every value takes at least 3 bytes, like `_\r\n`), so
                // `*16777216\r\n` alone cannot make us allocate hundreds of megabytes.
                frame.elements.reserveCapacity(min(count, (bytes.count - index) / 3))
            }
            state.frames.append(frame)
            return .opened
        case ASCII.plus:
            guard let line = try readLine() else { return nil }
            value = .simpleString(string(line))
        case ASCII.minus:
            guard let line = try readLine() else { return nil }
            value = .error(string(line))
        case ASCII.colon:
            guard let integer = try readInteger(invalid: .invalidInteger) else { return nil }
            value = .integer(integer)
        case ASCII.underscore:
            guard try readCRLF() else { return nil }
            value = .null
        case ASCII.hash:
            guard let boolean = try readBoolean() else { return nil }
            value = boolean
        case ASCII.comma:
            guard let line = try readLine() else { return nil }
            guard let double = parseDouble(line) else {
                throw RESPDecodingError(kind: .invalidDouble, offset: line.lowerBound)
            }
            value = .double(double)
        case ASCII.openParen:
            guard let line = try readLine() else { return nil }
            guard isBigNumber(line) else {
                throw RESPDecodingError(kind: .invalidBigNumber, offset: line.lowerBound)
            }
            value = .bigNumber(string(line))
        default:
            throw RESPDecodingError(kind: .invalidTypeByte(type), offset: typeOffset)
        }
        advance()
        return .value(value)
    }

    /// Moves the cursor past the piece just read.
    private mutating func advance() {
        state.cursor = index
        state.lineScanned = 0
    }

    // MARK: - Aggregates

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

    /// Completes a bulk value whose header was read, once its payload and CR LF are all there.
    ///
    /// Until then a pass costs O(1), or for a large bulk string the copy of the bytes that
    /// arrived since the last pass: no payload byte is copied twice.
    private mutating func finishBulk() throws(RESPDecodingError) -> RESPValue? {
        // Taken out of the state so that `received` has one owner and grows in place.
        guard var pending = state.pendingBulk else { return nil }
        state.pendingBulk = nil
        let start = pending.payloadStart
        // Checked as soon as the byte is there, not when the whole payload is.
        if pending.type == ASCII.equals && bytes.count - start > 3 && bytes[start + 3] != ASCII.colon {
            throw RESPDecodingError(kind: .invalidVerbatim, offset: start)
        }
        if let copied = pending.received?.count {
            let arrived = min(bytes.count - start, pending.length)
            if arrived > copied {
                pending.received?.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[(start + copied)..<(start + arrived)]))
                state.examined += arrived - copied
            }
        }
        index = start
        guard let payload = try readBulkPayload(length: pending.length, copied: pending.received != nil) else {
            state.pendingBulk = pending
            return nil
        }
        advance()
        switch pending.type {
        case ASCII.dollar:
            return .bulkString(pending.received ?? copy(payload))
        case ASCII.bang:
            return .bulkError(copy(payload))
        default:
            let formatEnd = payload.lowerBound + 3
            return .verbatimString(
                format: string(payload.lowerBound..<formatEnd),
                text: copy((formatEnd + 1)..<payload.upperBound)
            )
        }
    }

    /// Reads `length` payload bytes and the CR LF that must follow them.
    ///
    /// - Parameter copied: Whether the payload was already copied (and counted) as it arrived.
    private mutating func readBulkPayload(length: Int, copied: Bool) throws(RESPDecodingError) -> Range<Int>? {
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
        // The payload is read once, when it is copied into the value.
        state.examined += (copied ? 0 : length) + 2
        return start..<(start + length)
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
        let begin = index
        var i = begin
        defer { state.examined += i - begin }
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
                let (next, o2) =
                    negative
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
                i += 2
                index = i
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
    ///
    /// A line still waiting for its CR LF is scanned from where the last pass stopped
    /// (``RESPParseState/lineScanned``), not from its start.
    private mutating func readLine() throws(RESPDecodingError) -> Range<Int>? {
        let start = index
        let available = bytes.count - start
        // Scan no further than the longest allowed content plus its CR, so a peer that never
        // ends the line is caught instead of being buffered forever.
        let scanEnd = available > limits.maxLineLength ? start + limits.maxLineLength + 1 : bytes.count
        let resumeAt = max(start, state.lineScanned)
        var i = resumeAt
        defer { state.examined += i - resumeAt }
        while i < scanEnd {
            let byte = bytes[i]
            // One comparison for the common case: CR (13) and LF (10) are both <= CR.
            if byte > ASCII.cr {
                i += 1
                continue
            }
            if byte == ASCII.cr {
                guard i + 1 < bytes.count else {
                    state.lineScanned = i
                    return nil
                }
                guard bytes[i + 1] == ASCII.lf else {
                    throw RESPDecodingError(kind: .missingCRLF, offset: i + 1)
                }
                index = i + 2
                state.examined += 2
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
        state.lineScanned = i
        return nil
    }

    /// Reads the CR LF that ends a fixed-size line such as `_\r\n`; `false` if it has not arrived.
    private mutating func readCRLF() throws(RESPDecodingError) -> Bool {
        guard index < bytes.count else { return false }
        state.examined += 2
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
        while i < end && isDigit(bytes[i]) {
            i += 1
            mantissaDigits += 1
        }
        if i < end && bytes[i] == UInt8(ascii: ".") {
            i += 1
            while i < end && isDigit(bytes[i]) {
                i += 1
                mantissaDigits += 1
            }
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
