import Foundation

/// A strict reader of the Prometheus text exposition format (0.0.4), independent of the
/// project's writer: every sample must belong to a family declared by `# HELP` and `# TYPE`
/// before it; counters end in `_total`; a histogram's buckets are cumulative, end with
/// `le="+Inf"` equal to its `_count`, and have `_sum` and `_count`.
public struct PrometheusText: Sendable {
    /// One sample line.
    public struct Sample: Sendable, Hashable {
        public var name: String
        public var labels: [String: String]
        public var value: Double
    }

    /// Families by name: their type.
    public private(set) var types: [String: String] = [:]
    /// Every sample, in order.
    public private(set) var samples: [Sample] = []

    /// Parses `text`, throwing a description of the first problem.
    public init(_ text: String) throws {
        var help: Set<String> = []
        guard text.hasSuffix("\n") else { throw Problem("the text does not end with a newline") }
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().enumerated() {
            let place = "line \(number + 1)"
            if line.hasPrefix("# HELP ") {
                let parts = line.dropFirst(7).split(separator: " ", maxSplits: 1)
                guard parts.count == 2 else { throw Problem("\(place): HELP without text") }
                help.insert(String(parts[0]))
            } else if line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ")
                guard parts.count == 2, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[1]) else {
                    throw Problem("\(place): bad TYPE line \(line)")
                }
                guard help.contains(String(parts[0])) else { throw Problem("\(place): TYPE before HELP for \(parts[0])") }
                guard types[String(parts[0])] == nil else { throw Problem("\(place): \(parts[0]) declared twice") }
                if parts[1] == "counter" && !parts[0].hasSuffix("_total") {
                    throw Problem("\(place): counter \(parts[0]) does not end in _total")
                }
                types[String(parts[0])] = String(parts[1])
            } else if line.hasPrefix("#") || line.isEmpty {
                throw Problem("\(place): unexpected line \(line)")
            } else {
                let sample = try Self.sample(String(line), place)
                guard family(of: sample.name) != nil else { throw Problem("\(place): \(sample.name) has no TYPE before it") }
                samples.append(sample)
            }
        }
        try checkHistograms()
    }

    /// The family a sample belongs to (a histogram's `_bucket`, `_sum` and `_count` included).
    public func family(of name: String) -> String? {
        if types[name] != nil { return name }
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if types[base] == "histogram" { return base }
        }
        return nil
    }

    /// The value of the sample `name` with exactly `labels`.
    public func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    private func checkHistograms() throws {
        for (name, type) in types where type == "histogram" {
            let buckets = samples.filter { $0.name == name + "_bucket" }
            let series = Dictionary(grouping: buckets) { $0.labels.filter { $0.key != "le" } }
            for (labels, points) in series {
                var last = -1.0
                for point in points {
                    guard point.value >= last else { throw Problem("\(name)\(labels): buckets are not cumulative") }
                    last = point.value
                }
                guard points.last?.labels["le"] == "+Inf" else { throw Problem("\(name)\(labels): the last bucket is not +Inf") }
                guard let count = value(name + "_count", labels), value(name + "_sum", labels) != nil else {
                    throw Problem("\(name)\(labels): _sum or _count missing")
                }
                guard count == last else { throw Problem("\(name)\(labels): +Inf bucket \(last) != _count \(count)") }
            }
        }
    }

    private static func sample(_ line: String, _ place: String) throws -> Sample {
        var name = ""
        var index = line.startIndex
        while index < line.endIndex, line[index] != "{", line[index] != " " {
            name.append(line[index])
            index = line.index(after: index)
        }
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }) else {
            throw Problem("\(place): bad metric name in \(line)")
        }
        var labels: [String: String] = [:]
        if index < line.endIndex, line[index] == "{" {
            index = line.index(after: index)
            while line[index] != "}" {
                var key = ""
                while line[index] != "=" {
                    key.append(line[index])
                    index = line.index(after: index)
                }
                index = line.index(after: index)
                guard line[index] == "\"" else { throw Problem("\(place): label value not quoted") }
                index = line.index(after: index)
                var value = ""
                while line[index] != "\"" {
                    if line[index] == "\\" {
                        index = line.index(after: index)
                        switch line[index] {
                        case "n": value.append("\n")
                        case "\\": value.append("\\")
                        case "\"": value.append("\"")
                        default: throw Problem("\(place): bad escape")
                        }
                    } else {
                        value.append(line[index])
                    }
                    index = line.index(after: index)
                }
                index = line.index(after: index)
                labels[key] = value
                if line[index] == "," { index = line.index(after: index) }
            }
            index = line.index(after: index)
        }
        let rest = line[index...].trimmingCharacters(in: .whitespaces)
        guard let value = Double(rest) ?? (rest == "+Inf" ? .infinity : nil) else { throw Problem("\(place): bad value \(rest)") }
        return Sample(name: name, labels: labels, value: value)
    }

    /// What is wrong with the text.
    public struct Problem: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}
