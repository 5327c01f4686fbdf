import SeckillRESP
import Testing

@Suite("RESPCommand")
struct RESPCommandTests {
    private func encoded(_ command: RESPCommand) -> [UInt8] {
        var buffer: [UInt8] = []
        command.encode(into: &buffer)
        return buffer
    }

    @Test("encodes SET k v exactly")
    func encodesSet() {
        let command = RESPCommand("SET", "k", "v")
        #expect(encoded(command) == wire("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"))
        #expect(command.argumentCount == 3)
        #expect(command.name == "SET")
        #expect(command.encodedByteCount == encoded(command).count)
    }

    @Test("encodes a name-only command")
    func encodesNameOnly() {
        #expect(encoded(RESPCommand("PING")) == wire("*1\r\n$4\r\nPING\r\n"))
    }

    @Test("encodes an empty command as an empty array")
    func encodesEmpty() {
        let command = RESPCommand(arguments: [])
        #expect(encoded(command) == wire("*0\r\n"))
        #expect(command.name == "")
        #expect(command.argumentCount == 0)
        #expect(command.encodedByteCount == 4)
    }

    @Test(
        "appends integers as decimal bulk strings",
        arguments: [
            (0, "0"), (7, "7"), (10, "10"), (-1, "-1"), (-10, "-10"), (1_000_000, "1000000"),
            (Int.max, "9223372036854775807"), (Int.min, "-9223372036854775808"),
        ]
    )
    func appendsInteger(value: Int, text: String) {
        var command = RESPCommand("X")
        command.append(value)
        #expect(encoded(command) == wire("*2\r\n$1\r\nX\r\n$\(text.utf8.count)\r\n\(text)\r\n"))
        #expect(command.encodedByteCount == encoded(command).count)
    }

    @Test("appends binary arguments unchanged, whatever collection holds them")
    func appendsBinary() {
        let payload: [UInt8] = [0x0D, 0x0A, 0x00, 0xFF, 0x24]
        var command = RESPCommand("SET")
        command.append(payload)
        command.append(payload[1...])
        payload.withUnsafeBytes { command.append($0) }
        // Not contiguous: takes the element-by-element path.
        command.append(payload.reversed())
        command.append("caf\u{E9}".utf8)
        command.append([UInt8]())
        #expect(command.arguments == [wire("SET"), payload, Array(payload[1...]), payload, payload.reversed(), wire("caf\u{E9}"), []])
        #expect(command.argumentCount == 7)
        let expected =
            wire("*7\r\n$3\r\nSET\r\n$5\r\n") + payload + wire("\r\n$4\r\n") + payload[1...]
            + wire("\r\n$5\r\n") + payload + wire("\r\n$5\r\n") + payload.reversed()
            + wire("\r\n$5\r\ncaf\u{E9}\r\n$0\r\n\r\n")
        #expect(encoded(command) == expected)
        #expect(command.encodedByteCount == expected.count)
    }

    @Test("builds the same bytes from strings, raw arguments and appends")
    func initialisersAgree() {
        var appended = RESPCommand("INCRBY")
        appended.append("stock:1")
        appended.append(-3)
        let variadic = RESPCommand("INCRBY", "stock:1", "-3")
        let raw = RESPCommand(arguments: [wire("INCRBY"), wire("stock:1"), wire("-3")])
        #expect(appended == variadic)
        #expect(raw == variadic)
        #expect(Set([appended, variadic, raw]).count == 1)
    }

    @Test("keeps multi-byte and long arguments intact")
    func longArguments() {
        let long = String(repeating: "\u{1F680}", count: 1000)
        let command = RESPCommand("SET", long, "")
        #expect(command.arguments == [wire("SET"), wire(long), []])
        #expect(command.name == "SET")
        #expect(encoded(command).count == command.encodedByteCount)
    }

    @Test("appends to existing buffer contents")
    func appendsToBuffer() {
        var buffer = wire("prefix")
        RESPCommand("PING").encode(into: &buffer)
        #expect(buffer == wire("prefix*1\r\n$4\r\nPING\r\n"))
    }

    @Test("describes itself as quoted arguments")
    func description() {
        #expect(RESPCommand("SET", "k", "a b").description == #""SET" "k" "a b""#)
    }

    @Test(
        "a prefix encoded with appended arguments is the command built with them, after what the buffer held",
        arguments: [
            [String](), [""], ["user-1"], ["u", "", "é漢字🙂", String(repeating: "x", count: 1_000)],
            (0..<12).map { String(repeating: "a", count: $0) }, ["9", "10", "100", "req-0123456789abcdef0123"],
        ])
    func encodesAppendedArguments(_ arguments: [String]) {
        let prefix = RESPCommand("EVALSHA", "0123456789abcdef", "2", "{item}:meta", "{item}:users")
        var buffer: [UInt8] = Array("kept".utf8)
        prefix.encode(appending: arguments, into: &buffer)
        #expect(buffer == Array("kept".utf8) + encoded(prefix.appending(arguments)))
    }
}
