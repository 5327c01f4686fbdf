import SeckillRESP
import Testing

/// A value and its exact wire form.
struct WireVector: Sendable, CustomTestStringConvertible {
    var wire: [UInt8]
    var value: RESPValue

    init(_ wire: String, _ value: RESPValue) {
        self.wire = Array(wire.utf8)
        self.value = value
    }

    init(bytes: [UInt8], _ value: RESPValue) {
        self.wire = bytes
        self.value = value
    }

    var testDescription: String { printable(wire) }
}

/// Vectors for every RESP type, in the canonical form that the encoder writes and the decoder reads.
enum KnownVectors {
    static let canonical: [WireVector] = [
        // RESP2
        WireVector("+OK\r\n", .simpleString("OK")),
        WireVector("+\r\n", .simpleString("")),
        WireVector("+caf\u{E9} \u{1F680}\r\n", .simpleString("caf\u{E9} \u{1F680}")),
        WireVector("-ERR unknown command 'FOO'\r\n", .error("ERR unknown command 'FOO'")),
        WireVector(":0\r\n", .integer(0)),
        WireVector(":42\r\n", .integer(42)),
        WireVector(":-123\r\n", .integer(-123)),
        WireVector(":9223372036854775807\r\n", .integer(.max)),
        WireVector(":-9223372036854775808\r\n", .integer(.min)),
        WireVector("$3\r\nfoo\r\n", .bulkString(wire("foo"))),
        WireVector("$0\r\n\r\n", .bulkString([])),
        WireVector(bytes: [0x24, 0x34, 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0xFF, 0x0D, 0x0A], .bulkString([0x0D, 0x0A, 0x00, 0xFF])),
        WireVector("$-1\r\n", .nullBulkString),
        WireVector("*2\r\n$3\r\nfoo\r\n$3\r\nbar\r\n", .array([.bulkString(wire("foo")), .bulkString(wire("bar"))])),
        WireVector("*0\r\n", .array([])),
        WireVector("*-1\r\n", .nullArray),
        WireVector(
            "*3\r\n*1\r\n:1\r\n*-1\r\n$-1\r\n",
            .array([.array([.integer(1)]), .nullArray, .nullBulkString])
        ),
        // RESP3
        WireVector("_\r\n", .null),
        WireVector("#t\r\n", .boolean(true)),
        WireVector("#f\r\n", .boolean(false)),
        WireVector(",3.5\r\n", .double(3.5)),
        WireVector(",-0.25\r\n", .double(-0.25)),
        WireVector(",1e+20\r\n", .double(1e20)),
        WireVector(",inf\r\n", .double(.infinity)),
        WireVector(",-inf\r\n", .double(-.infinity)),
        WireVector(",nan\r\n", .double(.nan)),
        WireVector("(3492890328409238509324850943850943825024385\r\n", .bigNumber("3492890328409238509324850943850943825024385")),
        WireVector("(-42\r\n", .bigNumber("-42")),
        WireVector("!21\r\nSYNTAX invalid syntax\r\n", .bulkError(wire("SYNTAX invalid syntax"))),
        WireVector("=15\r\ntxt:Some string\r\n", .verbatimString(format: "txt", text: wire("Some string"))),
        WireVector("=4\r\nmkd:\r\n", .verbatimString(format: "mkd", text: [])),
        WireVector("%1\r\n+a\r\n:1\r\n", .map([.simpleString("a"), .integer(1)])),
        WireVector("%0\r\n", .map([])),
        WireVector(
            "%2\r\n$1\r\nk\r\n*1\r\n_\r\n+x\r\n#f\r\n",
            .map([.bulkString(wire("k")), .array([.null]), .simpleString("x"), .boolean(false)])
        ),
        WireVector("~2\r\n:1\r\n:2\r\n", .set([.integer(1), .integer(2)])),
        WireVector(">2\r\n+message\r\n$2\r\nhi\r\n", .push([.simpleString("message"), .bulkString(wire("hi"))])),
    ]
}
