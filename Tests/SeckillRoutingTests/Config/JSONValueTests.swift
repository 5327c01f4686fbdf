import SeckillRouting
import Testing

@Suite("JSONValue parsing")
struct JSONValueTests {
    private func syntaxError(_ text: String) -> JSONSyntaxError? {
        do {
            _ = try JSONValue.parse(text)
            return nil
        } catch {
            return error
        }
    }

    private func syntaxError(bytes: [UInt8]) -> JSONSyntaxError? {
        do {
            _ = try JSONValue.parse(bytes)
            return nil
        } catch {
            return error
        }
    }

    @Test("scalars, arrays and nested objects parse")
    func parsesValues() throws {
        let value = try JSONValue.parse(#" {"a": [1, -2.5e3, true, false, null, "x"], "b": {"c": {}}, "d": []} "#)
        guard case .object(let object) = value else {
            Issue.record("expected an object")
            return
        }
        #expect(object.keys == ["a", "b", "d"])
        #expect(value["a"]?[0] == .number(JSONNumber(1)))
        #expect(value["a"]?[2] == .bool(true))
        #expect(value["a"]?[4] == .null)
        #expect(value["a"]?[5] == .string("x"))
        #expect(value["b"]?["c"] == .object(JSONObject()))
        #expect(value["d"] == .array([]))
        #expect(try JSONValue.parse("42") == .number(JSONNumber(42)))
        #expect(try JSONValue.parse(#""top""#) == .string("top"))
    }

    @Test("object members keep document order")
    func keepsKeyOrder() throws {
        let value = try JSONValue.parse(#"{"z": 1, "a": 2, "m": 3}"#)
        guard case .object(let object) = value else {
            Issue.record("expected an object")
            return
        }
        #expect(object.keys == ["z", "a", "m"])
        #expect(value.description == #"{"z": 1, "a": 2, "m": 3}"#)
    }

    @Test("numbers keep their literal and whether they are integers")
    func numbers() throws {
        guard case .number(let big) = try JSONValue.parse("123456789012345678901234567890") else {
            Issue.record("expected a number")
            return
        }
        #expect(big.isInteger)
        #expect(big.intValue == nil)
        #expect(big.literal == "123456789012345678901234567890")

        guard case .number(let fraction) = try JSONValue.parse("7000.0") else {
            Issue.record("expected a number")
            return
        }
        #expect(!fraction.isInteger)
        #expect(fraction.intValue == nil)
        #expect(fraction.doubleValue == 7000)

        guard case .number(let negative) = try JSONValue.parse("-9223372036854775808") else {
            Issue.record("expected a number")
            return
        }
        #expect(negative.intValue == Int.min)
        guard case .number(let exponent) = try JSONValue.parse("1E+2") else {
            Issue.record("expected a number")
            return
        }
        #expect(!exponent.isInteger && exponent.doubleValue == 100)
    }

    @Test("string escapes, surrogate pairs and raw UTF-8 decode")
    func strings() throws {
        #expect(try JSONValue.parse(#""a\"b\\c\/d\b\f\n\r\t""#) == .string("a\"b\\c/d\u{8}\u{C}\n\r\t"))
        #expect(try JSONValue.parse(#""\u00e9\u4E2D\ud83d\ude00""#) == .string("é中😀"))
        #expect(try JSONValue.parse(#""héllo 😀""#) == .string("héllo 😀"))
        #expect(try JSONValue.parse(#""\u0000""#) == .string("\u{0}"))
    }

    @Test("a leading byte order mark is skipped")
    func byteOrderMark() throws {
        #expect(try JSONValue.parse([0xEF, 0xBB, 0xBF] + Array("[1]".utf8)) == .array([.number(JSONNumber(1))]))
    }

    @Test("a missing comma is reported at the next member with line and column")
    func missingComma() {
        let text = """
            {
              "nodes": [
                {"name": "node-a",
                 "host": "127.0.0.1" "port": 7000}
              ]
            }
            """
        let error = syntaxError(text)
        #expect(error?.line == 4)
        #expect(error?.column == 26)
        #expect(error?.description == "line 4, column 26: expected ',' or '}' after object member")
    }

    @Test("columns count Unicode scalars, not bytes")
    func columnsCountScalars() {
        #expect(syntaxError(#"{"é": 1 "x": 2}"#)?.description == "line 1, column 9: expected ',' or '}' after object member")
    }

    @Test(
        "malformed documents are rejected with a precise message",
        arguments: [
            ("", "line 1, column 1: unexpected end of input, expected a value"),
            ("  \n  ", "line 2, column 3: unexpected end of input, expected a value"),
            ("{\"a\": 1,}", "line 1, column 9: trailing comma before '}' is not allowed in JSON"),
            ("[1, 2,]", "line 1, column 7: trailing comma before ']' is not allowed in JSON"),
            ("[1 2]", "line 1, column 4: expected ',' or ']' after array element"),
            ("{\"a\" 1}", "line 1, column 6: expected ':' after object key"),
            ("{a: 1}", "line 1, column 2: expected a string key in double quotes"),
            ("{'a': 1}", "line 1, column 2: expected a string key in double quotes"),
            ("['a']", "line 1, column 2: strings must be in double quotes"),
            ("// hi\n{}", "line 1, column 1: comments are not allowed in JSON"),
            ("[01]", "line 1, column 3: leading zeros are not allowed in numbers"),
            ("[1.]", "line 1, column 4: expected a digit after '.'"),
            ("[1e]", "line 1, column 4: expected a digit after the exponent marker"),
            ("[-]", "line 1, column 3: expected a digit after '-'"),
            ("[+1]", "line 1, column 2: numbers must not start with '+'"),
            ("[.5]", "line 1, column 2: numbers must start with a digit"),
            ("[tru]", "line 1, column 2: invalid literal; expected true, false, null, a number, a string, an array or an object"),
            ("[NaN]", "line 1, column 2: expected a value"),
            ("{} {}", "line 1, column 4: unexpected content after the top-level value"),
            ("{\"a\": \"x", "line 1, column 7: unterminated string; add the closing '\"'"),
            ("[\"a\nb\"]", "line 1, column 4: line break inside a string; close the string or write it as \\n"),
            ("[\"a\tb\"]", "line 1, column 4: control character U+0009 inside a string; escape it"),
            ("[\"\\x\"]", "line 1, column 3: invalid escape sequence in string; use \\\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t or \\uXXXX"),
            ("[\"\\ud800\"]", "line 1, column 3: unpaired surrogate \\uD800 in string"),
            ("[\"\\udc00\"]", "line 1, column 3: unpaired surrogate \\uDC00 in string"),
            ("[\"\\u12g4\"]", "line 1, column 3: expected 4 hex digits after \\u"),
            ("{\"a\": 1", "line 1, column 8: unexpected end of input, expected ',' or '}' after object member"),
            ("[1,", "line 1, column 4: unexpected end of input, expected a value"),
        ]
    )
    func rejectsMalformed(text: String, expected: String) {
        #expect(syntaxError(text)?.description == expected)
    }

    @Test("duplicate keys are rejected, naming both positions")
    func duplicateKeys() {
        let text = """
            {
              "port": 7000,
              "port": 7001
            }
            """
        #expect(syntaxError(text)?.description == #"line 3, column 3: duplicate key "port" (first at line 2, column 3)"#)
    }

    @Test("invalid UTF-8 inside a string is rejected")
    func invalidUTF8() {
        let bytes: [UInt8] = Array(#"["a"#.utf8) + [0xFF] + Array(#""]"#.utf8)
        #expect(syntaxError(bytes: bytes)?.description == "line 1, column 2: string is not valid UTF-8")
    }

    @Test("nesting deeper than the limit is rejected")
    func depthLimit() {
        #expect(
            syntaxError(String(repeating: "[", count: 200) + String(repeating: "]", count: 200))?.message
                == "arrays and objects are nested deeper than 128 levels")
        #expect((try? JSONValue.parse(String(repeating: "[", count: 100) + String(repeating: "]", count: 100))) != nil)
    }
}
