/// A RESP decoder for a byte stream that remembers how far it got in a partly received value.
///
/// It keeps the contract of ``RESPDecoder``: a call returns `nil` while the buffer holds only
/// a prefix of a value, throws as soon as the bytes are not RESP, and reports bytes as
/// consumed only with a complete value, so the caller keeps its buffer, appends what the next
/// read brings and calls again. Unlike ``RESPDecoder`` it does not start over each time: it
/// keeps the aggregates built so far, where the next element starts and, for a bulk string,
/// how many payload bytes are still due. Decoding a value that arrives in any number of reads
/// therefore costs time proportional to its bytes. A bulk payload is copied into its value
/// once: when it is complete, or, for a bulk string of 64 KiB or more, piece by piece as it
/// arrives (so completing a huge string does not stall the caller's thread with one big
/// copy; meanwhile its bytes are held both in the caller's buffer and in the value being built).
///
/// Between a call that returned `nil` and the next one, the buffer must start at the same
/// byte and begin with the same bytes (the caller only appends). A buffer shorter than the
/// previous one is taken as a new stream and decoded from its start. After a value is
/// returned, or an error thrown, the decoder starts afresh at the byte the caller passes next.
///
/// A caller that does not want to keep a large reply's bytes until the whole reply has
/// arrived may, after a `nil`, drop the ``releasableBytes`` the decoder is done with (the
/// part already decoded, or copied into a large bulk string) and say so with
/// ``release(_:)``; its buffer then holds about one read, not the whole reply. Offsets
/// (`consumed`, ``bytesNeeded``, error offsets) then count from the first byte still held.
public struct RESPStreamDecoder: Sendable {
    /// The bounds this decoder enforces.
    public let limits: RESPDecoder.Limits

    private var state = RESPParseState()
    /// The size of the buffer at the last call that returned `nil`; 0 when no value is partly decoded.
    private var buffered = 0

    /// Creates a decoder with no partial value.
    ///
    /// - Parameter limits: The bounds to enforce; the defaults suit a Redis client.
    public init(limits: RESPDecoder.Limits = .init()) {
        self.limits = limits
    }

    /// Bytes examined since the decoder was created, counting a bulk payload once, when it is
    /// copied into its value.
    ///
    /// A byte is examined again only when the line or header it belongs to was cut by the end
    /// of a read, so this stays within a small factor of the bytes decoded however the stream
    /// is split; re-parsing every partial value from its start would make it grow with the
    /// square of a value's size.
    public var bytesExamined: Int { state.examined }

    /// True when a value has been partly decoded and the decoder waits for the rest of it.
    public var hasPartialValue: Bool { buffered > 0 || state.released > 0 }

    /// How many bytes at the start of the last buffer the decoder no longer needs, after a
    /// call that returned `nil`: what was already decoded into the partial value, and the
    /// part of a large bulk string already copied into it. 0 when no value is pending.
    public var releasableBytes: Int { hasPartialValue ? state.releasable : 0 }

    /// How many bytes of the pending value the caller has released so far; with the
    /// buffered bytes, the size the value has reached. 0 when no value is pending.
    public var releasedBytes: Int { state.released }

    /// Records that the caller dropped the first `count` bytes of its buffer, so the next
    /// call's buffer starts `count` bytes further into the pending value.
    ///
    /// - Parameter count: Between 0 and ``releasableBytes``.
    public mutating func release(_ count: Int) {
        precondition(count >= 0 && count <= releasableBytes, "release(\(count)) outside 0...\(releasableBytes)")
        guard count > 0 else { return }
        state.release(count)
        buffered -= count
    }

    /// The buffer size, counted from the first byte of the buffer, that the decoder knows it
    /// needs before it can complete the piece it waits for: when it waits for a bulk
    /// payload, the end of that payload and its CR LF. `nil` when it waits for bytes of
    /// unknown number.
    ///
    /// A caller can size its buffer once from this instead of growing it read after read,
    /// and can refuse a reply that would be too large before it arrives.
    public var bytesNeeded: Int? {
        guard let pending = state.pendingBulk else { return nil }
        return pending.payloadStart + pending.length + 2
    }

    /// Forgets any partly decoded value; the next call decodes from the start of its buffer.
    public mutating func reset() {
        state.reset()
        buffered = 0
    }

    /// Continues, or starts, decoding the value at the start of `buffer`.
    ///
    /// - Parameter buffer: Bytes received so far, from the first byte of the pending value;
    ///   after a `nil`, the same bytes again followed by what has arrived since.
    /// - Returns: The value and the number of bytes it used, or `nil` if `buffer` still holds
    ///   only a prefix of a value (including when it is empty).
    /// - Throws: ``RESPDecodingError`` if the bytes are not valid RESP or break a limit; its
    ///   offset is relative to the start of `buffer`. The partial value is then dropped.
    public mutating func decode(_ buffer: UnsafeRawBufferPointer) throws(RESPDecodingError) -> (value: RESPValue, consumed: Int)? {
        if buffer.count < buffered { reset() }
        guard !buffer.isEmpty else { return nil }
        // The state is moved into the parser (and back), never copied: a copy would share the
        // partial aggregates' storage and make every append copy them.
        let result = buffer.withMemoryRebound(to: UInt8.self) { bytes -> Result<(value: RESPValue, consumed: Int)?, RESPDecodingError> in
            var parser = RESPParser(bytes: bytes, limits: limits)
            swap(&parser.state, &state)
            defer { swap(&parser.state, &state) }
            do throws(RESPDecodingError) {
                guard let value = try parser.parseValue() else { return .success(nil) }
                return .success((value, parser.state.cursor))
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(nil):
            buffered = buffer.count
            return nil
        case .success(let decoded?):
            reset()
            return decoded
        case .failure(let error):
            reset()
            throw error
        }
    }

    /// Continues, or starts, decoding the value that starts at index `start` of `bytes`.
    ///
    /// - Parameters:
    ///   - bytes: Bytes received so far.
    ///   - start: The index where the value starts, between 0 and `bytes.count`; earlier bytes are ignored.
    /// - Returns: The value and the number of bytes it used counted from `start`, or `nil` if
    ///   the bytes from `start` hold only a prefix of a value.
    /// - Throws: ``RESPDecodingError`` if the bytes are not valid RESP or break a limit; its
    ///   offset is relative to `start`.
    public mutating func decode(_ bytes: [UInt8], from start: Int = 0) throws(RESPDecodingError) -> (value: RESPValue, consumed: Int)? {
        precondition(start >= 0 && start <= bytes.count, "start \(start) is outside 0...\(bytes.count)")
        let result = bytes.withUnsafeBytes { raw -> Result<(value: RESPValue, consumed: Int)?, RESPDecodingError> in
            do throws(RESPDecodingError) {
                return .success(try decode(UnsafeRawBufferPointer(rebasing: raw[start...])))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}
