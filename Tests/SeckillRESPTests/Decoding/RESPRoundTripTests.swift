import SeckillRESP
import Testing

/// Random values through the encoder and back through the decoder, at every split point.
///
/// Seeds are fixed so that runs are reproducible; each failure message names its seed and
/// value index, and `RandomRESPValues(seed:)` replays the exact same values.
@Suite("RESP round trips")
struct RESPRoundTripTests {
    static let seeds: [UInt64] = [1, 42, 0xC0FFEE, 0x5EC_C111]
    static let valuesPerSeed = 100

    private func encoded(_ value: RESPValue) -> [UInt8] {
        var buffer: [UInt8] = []
        RESPEncoder.encode(value, into: &buffer)
        return buffer
    }

    @Test("every proper prefix is incomplete and the whole value decodes", arguments: seeds)
    func decodesAtEverySplitPoint(seed: UInt64) throws {
        print("RESPRoundTripTests seed \(seed)")
        var generator = RandomRESPValues(seed: seed)
        let decoder = RESPDecoder()
        for index in 0..<Self.valuesPerSeed {
            let value = generator.value()
            let bytes = encoded(value)
            let context: Comment = "seed \(seed), value \(index): \(value)"
            try bytes.withUnsafeBytes { raw in
                for split in 0..<raw.count {
                    // A prefix must ask for more bytes: never a value, never an error.
                    let prefix = try decoder.decode(UnsafeRawBufferPointer(rebasing: raw[..<split]))
                    #expect(prefix == nil, "prefix of \(split) bytes decoded; \(context)")
                    if prefix != nil { return }
                }
            }
            let decoded = try #require(try decoder.decode(bytes), context)
            #expect(decoded.value == value, context)
            #expect(decoded.consumed == bytes.count, context)
            // Bytes after the value belong to the next one and must be left alone.
            let followed = try #require(try decoder.decode(bytes + wire("+next\r\n")), context)
            #expect(followed.consumed == bytes.count, context)
        }
    }

    @Test("a stream of concatenated values decodes one by one", arguments: seeds)
    func decodesConcatenatedStream(seed: UInt64) throws {
        print("RESPRoundTripTests seed \(seed)")
        var generator = RandomRESPValues(seed: seed ^ 0xFFFF)
        let values = (0..<300).map { _ in generator.value() }
        var stream: [UInt8] = []
        for value in values {
            RESPEncoder.encode(value, into: &stream)
        }
        let decoder = RESPDecoder()
        var offset = 0
        for (index, value) in values.enumerated() {
            let decoded = try #require(try decoder.decode(stream, from: offset), "seed \(seed), value \(index)")
            #expect(decoded.value == value, "seed \(seed), value \(index)")
            offset += decoded.consumed
        }
        #expect(offset == stream.count)
        #expect(try decoder.decode(stream, from: offset) == nil)
    }

    @Test("values arriving in random chunks decode as a reader would see them", arguments: seeds)
    func decodesChunkedStream(seed: UInt64) throws {
        print("RESPRoundTripTests seed \(seed)")
        var generator = RandomRESPValues(seed: seed ^ 0xABCD)
        var rng = SplitMix64(seed: seed)
        let values = (0..<200).map { _ in generator.value() }
        var stream: [UInt8] = []
        for value in values {
            RESPEncoder.encode(value, into: &stream)
        }
        let decoder = RESPDecoder()
        var received: [UInt8] = []
        var decoded: [RESPValue] = []
        var sent = 0
        while sent < stream.count {
            let chunk = min(1 + rng.below(64), stream.count - sent)
            received += stream[sent..<(sent + chunk)]
            sent += chunk
            // Drain every complete value, then drop the consumed bytes, as a connection's read loop does.
            var start = 0
            while let (value, consumed) = try decoder.decode(received, from: start) {
                decoded.append(value)
                start += consumed
            }
            received.removeFirst(start)
        }
        #expect(received.isEmpty, "seed \(seed)")
        #expect(decoded == values, "seed \(seed)")
    }

    @Test("commands decode as arrays of bulk strings")
    func commandsDecodeAsArrays() throws {
        var command = RESPCommand("EVALSHA", "abc123", "1")
        command.append([0x0D, 0x0A, 0x00])
        command.append(-42)
        var buffer: [UInt8] = []
        command.encode(into: &buffer)
        let decoded = try #require(try RESPDecoder().decode(buffer))
        #expect(
            decoded.value
                == .array([
                    .bulkString(wire("EVALSHA")), .bulkString(wire("abc123")), .bulkString(wire("1")),
                    .bulkString([0x0D, 0x0A, 0x00]), .bulkString(wire("-42")),
                ]))
        #expect(decoded.consumed == buffer.count)
    }
}
