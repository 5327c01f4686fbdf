import SeckillRESP
import Testing

@Suite("RESPValue")
struct RESPValueTests {
    @Test("string reads simple, bulk and verbatim strings only")
    func stringAccessor() {
        #expect(RESPValue.simpleString("OK").string == "OK")
        #expect(RESPValue.bulkString(wire("caf\u{E9}")).string == "caf\u{E9}")
        #expect(RESPValue.bulkString([0x61, 0xFF]).string == "a\u{FFFD}")
        #expect(RESPValue.verbatimString(format: "txt", text: wire("hi")).string == "hi")
        #expect(RESPValue.error("ERR x").string == nil)
        #expect(RESPValue.integer(1).string == nil)
        #expect(RESPValue.nullBulkString.string == nil)
    }

    @Test("bytes reads bulk, simple and verbatim strings only")
    func bytesAccessor() {
        #expect(RESPValue.bulkString([0, 0xFF]).bytes == [0, 0xFF])
        #expect(RESPValue.simpleString("OK").bytes == wire("OK"))
        #expect(RESPValue.verbatimString(format: "txt", text: [1]).bytes == [1])
        #expect(RESPValue.bulkError([1]).bytes == nil)
        #expect(RESPValue.null.bytes == nil)
    }

    @Test("int reads integers and strings that follow the integer grammar")
    func intAccessor() {
        #expect(RESPValue.integer(-5).int == -5)
        #expect(RESPValue.bulkString(wire("123")).int == 123)
        #expect(RESPValue.bulkString(wire("-9223372036854775808")).int == .min)
        #expect(RESPValue.simpleString("42").int == 42)
        #expect(RESPValue.bulkString(wire("9223372036854775808")).int == nil)
        #expect(RESPValue.bulkString(wire("+1")).int == nil)
        #expect(RESPValue.bulkString(wire(" 1")).int == nil)
        #expect(RESPValue.bulkString(wire("1.0")).int == nil)
        #expect(RESPValue.bulkString(wire("-")).int == nil)
        #expect(RESPValue.bulkString([]).int == nil)
        #expect(RESPValue.double(1).int == nil)
    }

    @Test("array reads every aggregate, maps flattened")
    func arrayAccessor() {
        let elements: [RESPValue] = [.integer(1), .integer(2)]
        #expect(RESPValue.array(elements).array == elements)
        #expect(RESPValue.set(elements).array == elements)
        #expect(RESPValue.push(elements).array == elements)
        #expect(RESPValue.map(elements).array == elements)
        #expect(RESPValue.nullArray.array == nil)
        #expect(RESPValue.bulkString([]).array == nil)
    }

    @Test("isNull is true for the three nulls only")
    func isNull() {
        #expect(RESPValue.nullBulkString.isNull)
        #expect(RESPValue.nullArray.isNull)
        #expect(RESPValue.null.isNull)
        #expect(!RESPValue.bulkString([]).isNull)
        #expect(!RESPValue.array([]).isNull)
        #expect(!RESPValue.boolean(false).isNull)
    }

    @Test("errorMessage reads errors and bulk errors only")
    func errorMessage() {
        #expect(RESPValue.error("ERR x").errorMessage == "ERR x")
        #expect(RESPValue.bulkError(wire("SYNTAX y")).errorMessage == "SYNTAX y")
        #expect(RESPValue.simpleString("ERR x").errorMessage == nil)
    }

    @Test("NaN doubles are equal and hash alike, whatever their payload")
    func nanEquality() {
        let quiet = RESPValue.double(.nan)
        let payload = RESPValue.double(Double(nan: 7, signaling: false))
        let negative = RESPValue.double(-Double.nan)
        #expect(quiet == payload)
        #expect(quiet == negative)
        #expect(Set([quiet, payload, negative]).count == 1)
        #expect(quiet != .double(0))
        #expect(RESPValue.double(0) == .double(-0.0))
        #expect(Set([RESPValue.double(0), .double(-0.0)]).count == 1)
    }

    @Test("different cases with similar payloads are different values")
    func casesAreDistinct() {
        let values: [RESPValue] = [
            .simpleString("a"), .error("a"), .bigNumber("a"), .bulkString(wire("a")), .bulkError(wire("a")),
            .verbatimString(format: "txt", text: wire("a")), .nullBulkString, .nullArray, .null,
            .array([]), .set([]), .push([]), .map([]), .integer(0), .double(0), .boolean(false),
        ]
        #expect(Set(values).count == values.count)
        for (i, a) in values.enumerated() {
            for (j, b) in values.enumerated() {
                #expect((a == b) == (i == j), "\(a) vs \(b)")
            }
        }
    }

    @Test("description keeps the type visible and escapes bytes")
    func description() {
        let value = RESPValue.array([
            .bulkString(wire("foo")), .integer(42), .nullBulkString, .simpleString("OK"), .error("ERR x"),
            .bulkString([0x0D, 0x0A, 0x00, 0xFF, 0x22]), .map([.simpleString("a"), .integer(1)]),
            .null, .boolean(true), .double(1.5), .bigNumber("12"), .verbatimString(format: "txt", text: wire("t")),
            .set([]), .push([.nullArray]),
        ])
        #expect(
            value.description
                == #"*[$"foo", :42, $null, +"OK", -"ERR x", $"\r\n\x00\xFF\"", %{+"a": :1}, _null, #true, ,1.5, (12, =txt:"t", ~[], >[*null]]"#
        )
    }

    @Test("description cuts long bulk strings")
    func descriptionCutsLongBulk() {
        let text = RESPValue.bulkString(Array(repeating: 0x61, count: 1000)).description
        #expect(text.hasSuffix("\"…(1000 bytes)"))
        #expect(text.count < 300)
    }
}
