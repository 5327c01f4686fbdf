/// Left-aligned text columns for terminal output.
struct Table {
    private var rows: [[String]] = []
    private let rightAligned: Set<Int>

    init(header: [String], rightAligned: Set<Int> = []) {
        rows.append(header)
        self.rightAligned = rightAligned
    }

    mutating func add(_ row: [String]) { rows.append(row) }

    func render() -> [String] {
        let columns = rows.map(\.count).max() ?? 0
        var widths = Array(repeating: 0, count: columns)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        return rows.map { row in
            row.enumerated().map { index, cell in
                let pad = String(repeating: " ", count: widths[index] - cell.count)
                if index == row.count - 1 && !rightAligned.contains(index) { return cell }
                return rightAligned.contains(index) ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
    }
}

/// Number formatting shared by the commands.
enum Format {
    /// `12,345`
    static func grouped(_ value: Int) -> String {
        let digits = String(abs(value))
        var result = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result += "," }
            result.append(character)
        }
        return value < 0 ? "-" + result : result
    }

    /// A fixed number of decimals.
    static func fixed(_ value: Double, _ decimals: Int) -> String {
        guard value.isFinite else { return "-" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        let whole = Int(scaled / scale)
        var fraction = String(Int(scaled) - whole * Int(scale))
        while fraction.count < decimals { fraction = "0" + fraction }
        let sign = value < 0 && scaled != 0 ? "-" : ""
        return decimals == 0 ? "\(sign)\(whole)" : "\(sign)\(whole).\(fraction)"
    }

    /// `33.33%`
    static func percent(_ share: Double) -> String { fixed(share * 100, 2) + "%" }

    /// A bar of `width` cells for a share of `maximum`.
    static func bar(_ value: Double, of maximum: Double, width: Int = 40) -> String {
        guard maximum > 0, value > 0 else { return "" }
        let cells = Int((value / maximum * Double(width)).rounded())
        return String(repeating: "█", count: max(1, min(width, cells)))
    }
}

extension Format {
    /// `500 ms`, `2 s`
    static func duration(_ duration: Duration) -> String {
        let ms = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        return ms >= 1000 && ms.truncatingRemainder(dividingBy: 1000) == 0
            ? "\(Int(ms / 1000)) s" : "\(fixed(ms, ms == ms.rounded() ? 0 : 3)) ms"
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
