/// Writes ``RESPValue``s in wire form.
///
/// Clients send commands with ``RESPCommand``; this encoder is for everything else: test
/// doubles that play the server, fixtures, and round-trip tests of the decoder.
public enum RESPEncoder {
    /// Appends the RESP encoding of `value` to `buffer`, using the RESP3 form for RESP3-only cases.
    ///
    /// The output is always well-formed RESP, even for values the protocol cannot carry as
    /// given: CR and LF inside simple strings, errors and big numbers are written as spaces;
    /// a verbatim format is cut or padded with spaces to exactly three bytes; a map with an
    /// odd number of elements gets a final `_` null value.
    ///
    /// - Parameters:
    ///   - value: The value to encode.
    ///   - buffer: The output buffer; existing contents are kept.
    public static func encode(_ value: RESPValue, into buffer: inout [UInt8]) {
        switch value {
        case .simpleString(let s):
            buffer.append(ASCII.plus)
            appendLine(s, to: &buffer)
        case .error(let s):
            buffer.append(ASCII.minus)
            appendLine(s, to: &buffer)
        case .integer(let i):
            buffer.append(ASCII.colon)
            ASCII.appendDecimal(i, to: &buffer)
            ASCII.appendCRLF(to: &buffer)
        case .bulkString(let b):
            appendBulk(type: ASCII.dollar, b, to: &buffer)
        case .nullBulkString:
            buffer.append(contentsOf: [ASCII.dollar, ASCII.minus, ASCII.zero + 1, ASCII.cr, ASCII.lf])
        case .array(let elements):
            appendAggregate(type: ASCII.star, elements, to: &buffer)
        case .nullArray:
            buffer.append(contentsOf: [ASCII.star, ASCII.minus, ASCII.zero + 1, ASCII.cr, ASCII.lf])
        case .null:
            buffer.append(contentsOf: [ASCII.underscore, ASCII.cr, ASCII.lf])
        case .boolean(let b):
            buffer.append(contentsOf: [ASCII.hash, b ? ASCII.lowerT : ASCII.lowerF, ASCII.cr, ASCII.lf])
        case .double(let d):
            buffer.append(ASCII.comma)
            appendDouble(d, to: &buffer)
            ASCII.appendCRLF(to: &buffer)
        case .bigNumber(let s):
            buffer.append(ASCII.openParen)
            appendLine(s, to: &buffer)
        case .bulkError(let b):
            appendBulk(type: ASCII.bang, b, to: &buffer)
        case .verbatimString(let format, let text):
            buffer.append(ASCII.equals)
            ASCII.appendDecimal(Int64(text.count + 4), to: &buffer)
            ASCII.appendCRLF(to: &buffer)
            // The wire format has room for exactly three bytes before the ':'.
            let formatBytes = Array(format.utf8.prefix(3))
            buffer.append(contentsOf: formatBytes)
            buffer.append(contentsOf: repeatElement(ASCII.space, count: 3 - formatBytes.count))
            buffer.append(ASCII.colon)
            buffer.append(contentsOf: text)
            ASCII.appendCRLF(to: &buffer)
        case .map(let elements):
            let pairs = (elements.count + 1) / 2
            buffer.append(ASCII.percent)
            ASCII.appendDecimal(Int64(pairs), to: &buffer)
            ASCII.appendCRLF(to: &buffer)
            for element in elements {
                encode(element, into: &buffer)
            }
            if elements.count % 2 == 1 {
                encode(.null, into: &buffer)
            }
        case .set(let elements):
            appendAggregate(type: ASCII.tilde, elements, to: &buffer)
        case .push(let elements):
            appendAggregate(type: ASCII.greaterThan, elements, to: &buffer)
        }
    }

    private static func appendBulk(type: UInt8, _ payload: [UInt8], to buffer: inout [UInt8]) {
        buffer.append(type)
        ASCII.appendDecimal(Int64(payload.count), to: &buffer)
        ASCII.appendCRLF(to: &buffer)
        buffer.append(contentsOf: payload)
        ASCII.appendCRLF(to: &buffer)
    }

    private static func appendAggregate(type: UInt8, _ elements: [RESPValue], to buffer: inout [UInt8]) {
        buffer.append(type)
        ASCII.appendDecimal(Int64(elements.count), to: &buffer)
        ASCII.appendCRLF(to: &buffer)
        for element in elements {
            encode(element, into: &buffer)
        }
    }

    /// Appends `text` and the closing CR LF, replacing CR and LF inside it so the line cannot end early.
    private static func appendLine(_ text: String, to buffer: inout [UInt8]) {
        let utf8 = text.utf8
        if utf8.contains(where: { $0 == ASCII.cr || $0 == ASCII.lf }) {
            buffer.append(contentsOf: utf8.lazy.map { $0 == ASCII.cr || $0 == ASCII.lf ? ASCII.space : $0 })
        } else {
            buffer.append(contentsOf: utf8)
        }
        ASCII.appendCRLF(to: &buffer)
    }

    /// Appends the RESP3 text of a double: `inf`, `-inf`, `nan`, or the shortest decimal that round-trips.
    private static func appendDouble(_ value: Double, to buffer: inout [UInt8]) {
        if value.isNaN {
            buffer.append(contentsOf: "nan".utf8)
        } else if value.isInfinite {
            buffer.append(contentsOf: (value < 0 ? "-inf" : "inf").utf8)
        } else {
            // Swift's description is the shortest text that parses back to the same value,
            // and its forms ("1.5", "1e+20", "-0.0") all fit the RESP3 double grammar.
            buffer.append(contentsOf: value.description.utf8)
        }
    }
}
