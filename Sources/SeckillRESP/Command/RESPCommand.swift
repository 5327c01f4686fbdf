/// A command to send to Redis: an array of bulk strings.
///
/// Each argument is encoded as it is appended, so the encoding work happens in the task
/// that builds the command rather than in the connection that writes it, and writing is a
/// single copy. The command keeps the concatenated `$len\r\nbytes\r\n` bodies and the
/// argument count; the `*N\r\n` header is added by ``encode(into:)``.
///
/// ```swift
/// var command = RESPCommand("SET", "stock:42", "100")
/// command.append("PX")
/// command.append(5_000)
/// ```
public struct RESPCommand: Sendable, Hashable {
    /// The number of arguments, the command name included.
    public private(set) var argumentCount: Int = 0

    /// The encoded arguments, `$len\r\nbytes\r\n` one after the other.
    private var body: [UInt8] = []

    /// Enough for a typical flash-sale command (name, a key, a few short arguments) in one
    /// allocation, instead of regrowing the body three or four times as arguments arrive.
    private static let initialCapacity = 64

    /// Creates a command with its name as the only argument.
    ///
    /// - Parameter name: The command name, such as `GET`, sent as the first bulk string.
    public init(_ name: String) {
        body.reserveCapacity(Self.initialCapacity)
        append(name)
    }

    /// Creates a command from its name and string arguments.
    ///
    /// - Parameters:
    ///   - name: The command name, sent as the first bulk string.
    ///   - arguments: The remaining arguments, sent as UTF-8 bulk strings.
    public init(_ name: String, _ arguments: String...) {
        body.reserveCapacity(Self.initialCapacity)
        append(name)
        for argument in arguments {
            append(argument)
        }
    }

    /// Creates a command from raw arguments, the first being the command name.
    ///
    /// - Parameter arguments: Every argument as bytes; may be empty, which gives an empty command.
    public init(arguments: [[UInt8]]) {
        for argument in arguments {
            append(argument)
        }
    }

    /// Appends a string argument, encoded as UTF-8.
    ///
    /// - Parameter argument: The argument text.
    public mutating func append(_ argument: String) {
        // Native strings are contiguous UTF-8; only bridged or lazily built ones take the slow path.
        let done: Void? = argument.utf8.withContiguousStorageIfAvailable { appendArgument(UnsafeRawBufferPointer($0)) }
        if done == nil {
            append(Array(argument.utf8))
        }
    }

    /// Appends a binary-safe argument.
    ///
    /// Contiguous collections (`[UInt8]`, `ArraySlice<UInt8>`, `UnsafeRawBufferPointer`…)
    /// are copied in one block; others are iterated once.
    ///
    /// - Parameter argument: The argument bytes.
    public mutating func append(_ argument: some Collection<UInt8>) {
        let done: Void? = argument.withContiguousStorageIfAvailable { appendArgument(UnsafeRawBufferPointer($0)) }
        if done == nil {
            appendHeader(length: argument.count)
            body.append(contentsOf: argument)
            ASCII.appendCRLF(to: &body)
            argumentCount += 1
        }
    }

    /// Appends an integer argument as its decimal text, as Redis expects for counts, TTLs and increments.
    ///
    /// - Parameter argument: The number, written without a `+` sign and without leading zeros.
    public mutating func append(_ argument: Int) {
        let value = Int64(argument)
        appendHeader(length: ASCII.decimalByteCount(value))
        ASCII.appendDecimal(value, to: &body)
        ASCII.appendCRLF(to: &body)
        argumentCount += 1
    }

    /// The first argument, decoded as UTF-8, for error messages and logs; empty for an empty command.
    public var name: String {
        guard let first = argumentRanges(limit: 1).first else { return "" }
        return String(decoding: body[first], as: UTF8.self)
    }

    /// Every argument as bytes, decoded back from the encoding.
    ///
    /// Meant for routing (finding the key of a command), logging and tests, not for the write path.
    public var arguments: [[UInt8]] {
        argumentRanges(limit: argumentCount).map { Array(body[$0]) }
    }

    /// Makes room for `extraBytes` more bytes of arguments (headers included), so appending
    /// them to a copy of a prepared command allocates once.
    public mutating func reserveCapacity(extraBytes: Int) {
        body.reserveCapacity(body.count + extraBytes)
    }

    /// Appends the full encoding, `*N\r\n` followed by every bulk string, to `buffer`.
    ///
    /// - Parameter buffer: The output buffer; existing contents are kept.
    public func encode(into buffer: inout [UInt8]) {
        buffer.append(ASCII.star)
        ASCII.appendDecimal(Int64(argumentCount), to: &buffer)
        ASCII.appendCRLF(to: &buffer)
        buffer.append(contentsOf: body)
    }

    /// Appends the encoding of this command followed by `arguments`, as one command, to
    /// `buffer`: a prepared prefix (a script's `EVALSHA sha numkeys keys...`) completed by a
    /// call's own arguments without first copying the prefix into a command of the call's own.
    ///
    /// - Parameters:
    ///   - arguments: The arguments after this command's, sent as UTF-8 bulk strings.
    ///   - buffer: The output buffer; existing contents are kept.
    public func encode(appending arguments: [String], into buffer: inout [UInt8]) {
        // Counts, lengths and separators are put together in a small scratch buffer and
        // appended in one piece with the bytes around them: every append checks the array's
        // uniqueness and capacity, and appending them a byte at a time made about 30 appends
        // per purchase where this makes 11.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.scratchBytes) { scratch in
            var used = 0
            ASCII.put(ASCII.star, into: scratch, at: &used)
            ASCII.putDecimal(UInt64(argumentCount + arguments.count), into: scratch, at: &used)
            ASCII.putCRLF(into: scratch, at: &used)
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[..<used]))
            buffer.append(contentsOf: body)
            used = 0
            for argument in arguments {
                // Native strings are contiguous UTF-8; only bridged or lazily built ones are copied.
                let utf8 = argument.utf8
                // The previous argument's CRLF, if any, goes out with this one's header.
                ASCII.put(ASCII.dollar, into: scratch, at: &used)
                ASCII.putDecimal(UInt64(utf8.count), into: scratch, at: &used)
                ASCII.putCRLF(into: scratch, at: &used)
                buffer.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[..<used]))
                if utf8.withContiguousStorageIfAvailable({ buffer.append(contentsOf: $0) }) == nil {
                    buffer.append(contentsOf: utf8)
                }
                used = 0
                ASCII.putCRLF(into: scratch, at: &used)
            }
            if used > 0 { buffer.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[..<used])) }
        }
    }

    /// Room for a CRLF, a `$` or `*`, up to 20 digits and another CRLF.
    private static let scratchBytes = 32

    /// This command followed by `arguments`, as a command of its own (for the rare paths that
    /// need one; the hot path writes the two with ``encode(appending:into:)``).
    public func appending(_ arguments: [String]) -> RESPCommand {
        var command = self
        for argument in arguments { command.append(argument) }
        return command
    }

    /// The number of bytes ``encode(into:)`` appends, so callers can reserve space or account for it.
    public var encodedByteCount: Int {
        1 + ASCII.decimalByteCount(Int64(argumentCount)) + 2 + body.count
    }

    private mutating func appendArgument(_ bytes: UnsafeRawBufferPointer) {
        appendHeader(length: bytes.count)
        body.append(contentsOf: bytes)
        ASCII.appendCRLF(to: &body)
        argumentCount += 1
    }

    private mutating func appendHeader(length: Int) {
        body.append(ASCII.dollar)
        ASCII.appendDecimal(Int64(length), to: &body)
        ASCII.appendCRLF(to: &body)
    }

    /// The payload ranges of the first `limit` arguments, found by walking the `$len` headers.
    private func argumentRanges(limit: Int) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(min(limit, argumentCount))
        var index = 0
        while ranges.count < limit && index < body.count {
            // The body is only ever written by this type, so the headers are known to be well-formed.
            index += 1
            var length = 0
            while body[index] != ASCII.cr {
                length = length * 10 + Int(body[index] &- ASCII.zero)
                index += 1
            }
            index += 2
            ranges.append(index..<(index + length))
            index += length + 2
        }
        return ranges
    }
}

extension RESPCommand: CustomStringConvertible {
    /// The arguments as quoted strings, such as `"SET" "k" "v"`, for logs and test failures.
    public var description: String {
        arguments.map { String(decoding: $0, as: UTF8.self).debugDescription }.joined(separator: " ")
    }
}
