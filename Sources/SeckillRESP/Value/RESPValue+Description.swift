extension RESPValue: CustomStringConvertible {
    /// A compact rendering that keeps the RESP type prefix, for logs and test failures.
    ///
    /// For example `*[$"foo", :42, $null]`, `+"OK"`, `-"ERR wrong type"`, `%{+"a": :1}`.
    /// Bulk payloads are quoted with control and non-ASCII bytes escaped, and cut after
    /// 256 bytes so that a 100 MB value does not flood a test log.
    public var description: String {
        var out = ""
        Self.describe(self, into: &out)
        return out
    }

    /// How many bytes of a bulk payload ``description`` shows before eliding the rest.
    static let descriptionBulkLimit = 256

    private static func describe(_ value: RESPValue, into out: inout String) {
        switch value {
        case .simpleString(let s): out += "+" + s.debugDescription
        case .error(let s): out += "-" + s.debugDescription
        case .integer(let i): out += ":" + String(i)
        case .bulkString(let b):
            out += "$"
            describeBytes(b, into: &out)
        case .nullBulkString: out += "$null"
        case .array(let a): describeList("*[", a, "]", into: &out)
        case .nullArray: out += "*null"
        case .null: out += "_null"
        case .boolean(let b): out += b ? "#true" : "#false"
        case .double(let d): out += "," + String(d)
        case .bigNumber(let s): out += "(" + s
        case .bulkError(let b):
            out += "!"
            describeBytes(b, into: &out)
        case .verbatimString(let format, let text):
            out += "=" + format + ":"
            describeBytes(text, into: &out)
        case .map(let a):
            out += "%{"
            var index = 0
            while index < a.count {
                if index > 0 { out += ", " }
                describe(a[index], into: &out)
                out += ": "
                if index + 1 < a.count { describe(a[index + 1], into: &out) } else { out += "<missing>" }
                index += 2
            }
            out += "}"
        case .set(let a): describeList("~[", a, "]", into: &out)
        case .push(let a): describeList(">[", a, "]", into: &out)
        }
    }

    private static func describeList(_ open: String, _ elements: [RESPValue], _ close: String, into out: inout String) {
        out += open
        for (i, element) in elements.enumerated() {
            if i > 0 { out += ", " }
            describe(element, into: &out)
        }
        out += close
    }

    private static func describeBytes(_ bytes: [UInt8], into out: inout String) {
        let shown = bytes.prefix(descriptionBulkLimit)
        out += "\""
        for byte in shown {
            switch byte {
            case UInt8(ascii: "\""): out += "\\\""
            case UInt8(ascii: "\\"): out += "\\\\"
            case ASCII.cr: out += "\\r"
            case ASCII.lf: out += "\\n"
            case UInt8(ascii: "\t"): out += "\\t"
            // Bytes are shown one by one rather than decoded, so binary payloads stay exact and unambiguous.
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(byte))
            default: out += "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        out += "\""
        if bytes.count > shown.count {
            out += "…(\(bytes.count) bytes)"
        }
    }
}
