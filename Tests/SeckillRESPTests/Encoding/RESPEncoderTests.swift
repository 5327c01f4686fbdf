import SeckillRESP
import Testing

@Suite("RESPEncoder")
struct RESPEncoderTests {
    private func encoded(_ value: RESPValue) -> [UInt8] {
        var buffer: [UInt8] = []
        RESPEncoder.encode(value, into: &buffer)
        return buffer
    }

    @Test("encodes every known vector exactly", arguments: KnownVectors.canonical)
    func encodesKnownVector(_ vector: WireVector) {
        #expect(printable(encoded(vector.value)) == printable(vector.wire))
        #expect(encoded(vector.value) == vector.wire)
    }

    @Test("appends to existing buffer contents")
    func appendsToBuffer() {
        var buffer = wire("prefix")
        RESPEncoder.encode(.integer(1), into: &buffer)
        #expect(buffer == wire("prefix:1\r\n"))
    }

    @Test("encodes finite doubles as text that reads back to the same value")
    func encodesDoubles() {
        #expect(encoded(.double(-0.0)) == wire(",-0.0\r\n"))
        #expect(encoded(.double(0.1)) == wire(",0.1\r\n"))
        #expect(encoded(.double(.leastNonzeroMagnitude)) == wire(",5e-324\r\n"))
        #expect(encoded(.double(.greatestFiniteMagnitude)) == wire(",1.7976931348623157e+308\r\n"))
    }

    @Test("replaces CR and LF in line values so the output stays well-formed")
    func sanitizesLines() {
        #expect(encoded(.simpleString("a\r\nb")) == wire("+a  b\r\n"))
        #expect(encoded(.error("ERR\nx")) == wire("-ERR x\r\n"))
        #expect(encoded(.bigNumber("1\r2")) == wire("(1 2\r\n"))
    }

    @Test("cuts or pads a verbatim format to three bytes")
    func normalizesVerbatimFormat() {
        #expect(encoded(.verbatimString(format: "markdown", text: wire("x"))) == wire("=5\r\nmar:x\r\n"))
        #expect(encoded(.verbatimString(format: "t", text: [])) == wire("=4\r\nt  :\r\n"))
    }

    @Test("pads a map with an odd number of elements with a null value")
    func padsOddMap() {
        #expect(encoded(.map([.simpleString("k")])) == wire("%1\r\n+k\r\n_\r\n"))
    }

    @Test("encodes bulk strings of every digit count")
    func encodesLengths() {
        for length in [9, 10, 99, 100, 1000, 65536] {
            let bytes = encoded(.bulkString(Array(repeating: 0x61, count: length)))
            let header = wire("$\(length)\r\n")
            #expect(Array(bytes.prefix(header.count)) == header)
            #expect(bytes.count == header.count + length + 2)
        }
    }
}
