/// The UTF-8 bytes of `text`, for writing wire vectors as string literals.
func wire(_ text: String) -> [UInt8] {
    Array(text.utf8)
}

/// A printable rendering of wire bytes for test names and failure messages: `\r\n` shown escaped.
func printable(_ bytes: [UInt8]) -> String {
    var out = ""
    for byte in bytes.prefix(80) {
        switch byte {
        case 0x0D: out += "\\r"
        case 0x0A: out += "\\n"
        case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(byte))
        default: out += "\\x" + String(byte, radix: 16)
        }
    }
    return bytes.count > 80 ? out + "…(\(bytes.count) bytes)" : out
}
