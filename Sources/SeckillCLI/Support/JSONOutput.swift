import SeckillRouting

/// A JSON value built for output, keeping keys in the order given.
indirect enum JSONOutput {
    case object([(String, JSONOutput)])
    case array([JSONOutput])
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case null

    static func optional(_ value: String?) -> JSONOutput { value.map { .string($0) } ?? .null }
    static func optional(_ value: Double?) -> JSONOutput { value.map { .double($0) } ?? .null }

    /// Compact or pretty (two-space indented) JSON text.
    func render(pretty: Bool = true) -> String {
        var text = ""
        write(into: &text, indent: pretty ? 0 : nil)
        return text
    }

    private func write(into text: inout String, indent: Int?) {
        switch self {
        case .object(let members):
            if members.isEmpty {
                text += "{}"
                return
            }
            text += "{"
            for (index, (key, value)) in members.enumerated() {
                if index > 0 { text += "," }
                newline(&text, indent.map { $0 + 1 })
                Self.quote(key, into: &text)
                text += indent == nil ? ":" : ": "
                value.write(into: &text, indent: indent.map { $0 + 1 })
            }
            newline(&text, indent)
            text += "}"
        case .array(let values):
            if values.isEmpty {
                text += "[]"
                return
            }
            text += "["
            for (index, value) in values.enumerated() {
                if index > 0 { text += "," }
                newline(&text, indent.map { $0 + 1 })
                value.write(into: &text, indent: indent.map { $0 + 1 })
            }
            newline(&text, indent)
            text += "]"
        case .string(let value):
            Self.quote(value, into: &text)
        case .int(let value):
            text += String(value)
        case .double(let value):
            if value.isFinite {
                // Six decimals keep shares and deviations exact enough and the text short.
                let rounded = (value * 1_000_000).rounded() / 1_000_000
                text += rounded == rounded.rounded() && abs(rounded) < 1e15 ? String(Int(rounded)) : String(rounded)
            } else {
                text += "null"
            }
        case .bool(let value):
            text += value ? "true" : "false"
        case .null:
            text += "null"
        }
    }

    private func newline(_ text: inout String, _ indent: Int?) {
        guard let indent else { return }
        text += "\n" + String(repeating: "  ", count: indent)
    }

    static func quote(_ value: String, into text: inout String) {
        text += JSONWriter.quoted(value)
    }
}
