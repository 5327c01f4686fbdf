extension ClusterConfig {
    /// The longest timeout accepted, one day; larger values are almost certainly a unit
    /// mistake and would overflow 32-bit millisecond APIs such as `epoll_wait`.
    public static let maxTimeoutMilliseconds = 86_400_000

    /// Why `seeds` is wrong in static mode.
    static let seedsOutsideClusterMode = #"only used when "mode" is "cluster"; add "mode": "cluster" or remove "seeds""#
    /// Why `nodes` is wrong in cluster mode.
    static let nodesInClusterMode =
        #"not allowed when "mode" is "cluster", which discovers the nodes and their slots from "seeds"; remove "nodes""#

    /// Checks a config (typically one built in code) the same way ``parse(_:source:)``
    /// checks a file.
    ///
    /// - Returns: `self`, unchanged, when every check passes.
    /// - Throws: ``ConfigError`` with code ``ConfigError/Code/invalid`` listing every problem.
    public func validated() throws(ConfigError) -> ClusterConfig {
        try reading.validated()
    }

    /// Every problem with this config, each prefixed with ``source`` and the field;
    /// empty when the config is valid. Slot coverage is checked in static mode only.
    /// The ``sections`` of the layers above are not read here: their owners check them.
    public var validationProblems: [String] {
        reading.problems
    }

    /// The problems, leaving out fields that already failed to decode.
    func validationList(skipping failedPaths: Set<String>, checkCoverage: Bool) -> ProblemList {
        var list = ProblemList(source: source, failedPaths: failedPaths)
        switch mode {
        case .static:
            validateNodes(into: &list, checkCoverage: checkCoverage)
            if !seeds.isEmpty {
                list.add(at: "seeds", Self.seedsOutsideClusterMode)
            }
        case .cluster:
            if !nodes.isEmpty {
                list.add(at: "nodes", Self.nodesInClusterMode)
            }
            validateSeeds(into: &list)
        }
        validatePool(into: &list)
        validateTimeouts(into: &list)
        validateAuth(into: &list)
        if database < 0 {
            list.add(at: "database", "must be 0 or greater, got \(database)")
        }
        validateTopology(into: &list)
        if defaultConnectionsPerNode <= 0 {
            list.add(at: "defaultConnectionsPerNode", "must be positive, got \(defaultConnectionsPerNode)")
        }
        // Only a config built in code can name a section no layer owns: a file's unknown
        // top-level fields are rejected while decoding.
        for name in sections.keys.sorted() where !Self.ownedSectionNames.contains(name) {
            list.add(
                at: "",
                "unknown section \(JSONWriter.quoted(name)); known sections of other layers are "
                    + Self.ownedSectionNames.joined(separator: ", "))
        }
        return list
    }

    private func validateNodes(into list: inout ProblemList, checkCoverage: Bool) {
        if nodes.isEmpty {
            list.add(at: "nodes", "must list at least one node")
            return
        }
        var firstWithName: [String: Int] = [:]
        var firstWithAddress: [NodeAddress: Int] = [:]
        var coverageComplete = checkCoverage
        for (index, node) in nodes.enumerated() {
            let path = "nodes[\(index)]"
            if !list.hasFailed(path + ".name") {
                if node.name.isEmpty {
                    list.add(at: path + ".name", "must not be empty")
                } else if let first = firstWithName[node.name] {
                    list.add(at: path + ".name", "\(JSONWriter.quoted(node.name)) is used by nodes[\(first)] too")
                } else {
                    firstWithName[node.name] = index
                }
            }
            validateHost(node.host, at: path + ".host", into: &list)
            if !(1...65535).contains(node.port) {
                list.add(at: path + ".port", "\(node.port) is out of range 1-65535")
            }
            if !list.hasFailed(path + ".host"), !list.hasFailed(path + ".port"), !node.host.isEmpty {
                if let first = firstWithAddress[node.address] {
                    list.add(at: path, "address \(node.address) is used by nodes[\(first)] too")
                } else {
                    firstWithAddress[node.address] = index
                }
            }
            if !list.hasFailed(path + ".slots") {
                if node.slots.isEmpty, !list.hasFailures(under: path + ".slots") {
                    list.add(at: path + ".slots", "is empty; give the node at least one [start, end] slot range")
                }
                for (rangeIndex, range) in node.slots.enumerated() {
                    let rangePath = "\(path).slots[\(rangeIndex)]"
                    if range.lowerBound < 0 || range.lowerBound >= HashSlot.count {
                        list.add(at: rangePath, "start \(range.lowerBound) is out of range 0-16383")
                    }
                    if range.upperBound < 0 || range.upperBound >= HashSlot.count {
                        list.add(at: rangePath, "end \(range.upperBound) is out of range 0-16383")
                    }
                }
            }
            if list.hasFailed(path) { coverageComplete = false }
        }
        guard coverageComplete else { return }
        let labels = nodes.enumerated().map { index, node in
            firstWithName[node.name] == index ? node.name : "nodes[\(index)]"
        }
        for problem in SlotCoverage.problems(rangesPerNode: nodes.map(\.slots), labels: labels) {
            list.add(at: "", problem)
        }
    }

    private func validateSeeds(into list: inout ProblemList) {
        if seeds.isEmpty {
            list.add(at: "seeds", "must list at least one node of the Redis Cluster")
            return
        }
        var firstWithAddress: [NodeAddress: Int] = [:]
        for (index, seed) in seeds.enumerated() {
            let path = "seeds[\(index)]"
            validateHost(seed.host, at: path + ".host", into: &list)
            let portValid = (1...65535).contains(seed.port)
            if !portValid {
                list.add(at: path + ".port", "\(seed.port) is out of range 1-65535")
            }
            if !list.hasFailed(path + ".host"), !list.hasFailed(path + ".port"), !seed.host.isEmpty, portValid {
                if let first = firstWithAddress[seed] {
                    list.add(at: path, "address \(seed) is listed in seeds[\(first)] too")
                } else {
                    firstWithAddress[seed] = index
                }
            }
        }
    }

    private func validateHost(_ host: String, at path: String, into list: inout ProblemList) {
        if host.isEmpty {
            list.add(at: path, "must not be empty")
        } else if host.hasPrefix("[") {
            list.add(at: path, "write IPv6 addresses without brackets, e.g. \"::1\"")
        } else if host.contains(where: \.isWhitespace) {
            list.add(at: path, "\(JSONWriter.quoted(host)) contains whitespace")
        } else if host.filter({ $0 == ":" }).count == 1 {
            list.add(at: path, "\(JSONWriter.quoted(host)) looks like HOST:PORT; put the port in \"port\"")
        }
    }

    private func validatePool(into list: inout ProblemList) {
        if let connections = pool.connectionsPerNode, connections <= 0 {
            list.add(at: "pool.connectionsPerNode", "must be positive, got \(connections)")
        }
        if pool.maxInFlightPerNode <= 0 {
            list.add(at: "pool.maxInFlightPerNode", "must be positive, got \(pool.maxInFlightPerNode)")
        }
        let minimumValid = list.checkTimeout(pool.reconnectMin, at: "pool.reconnectMinMs")
        let maximumValid = list.checkTimeout(pool.reconnectMax, at: "pool.reconnectMaxMs")
        _ = list.checkTimeout(pool.acquireTimeout, at: "pool.acquireTimeoutMs")
        if pool.maxReplyBytes <= 0 {
            list.add(at: "pool.maxReplyBytes", "must be positive, got \(pool.maxReplyBytes)")
        }
        if minimumValid, maximumValid, pool.reconnectMin > pool.reconnectMax {
            list.add(
                at: "pool.reconnectMinMs",
                "\(pool.reconnectMin.wholeMilliseconds) is greater than pool.reconnectMaxMs (\(pool.reconnectMax.wholeMilliseconds))")
        }
    }

    private func validateTimeouts(into list: inout ProblemList) {
        _ = list.checkTimeout(timeouts.connect, at: "timeouts.connectMs")
        _ = list.checkTimeout(timeouts.command, at: "timeouts.commandMs")
    }

    private func validateTopology(into list: inout ProblemList) {
        _ = list.checkTimeout(topology.refreshInterval, at: "topology.refreshIntervalMs")
        if topology.maxRedirects <= 0 {
            list.add(at: "topology.maxRedirects", "must be positive, got \(topology.maxRedirects)")
        }
    }

    private func validateAuth(into list: inout ProblemList) {
        guard let auth else { return }
        if let username = auth.username, username.isEmpty {
            list.add(at: "auth.username", "must not be empty; omit it to use the default user")
        }
        if auth.passwordEnv.isEmpty {
            list.add(at: "auth.passwordEnv", "must name the environment variable holding the password")
        } else if !Self.isEnvironmentVariableName(auth.passwordEnv) {
            list.add(
                at: "auth.passwordEnv",
                "\(JSONWriter.quoted(auth.passwordEnv)) is not a valid environment variable name (letters, digits and _, not starting with a digit)"
            )
        }
    }

    private static func isEnvironmentVariableName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
        return name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
                true
            default:
                false
            }
        }
    }
}

/// Collects the problems of validation, each as `source: path: message`, dropping those
/// about fields that already failed to decode; shared with the layers that validate the
/// sections they own (``ClusterConfig/sections``), so ranges are reported in the same words.
public struct ProblemList: Sendable {
    /// The name prefixing every message.
    public let source: String
    /// Paths that already failed (to decode, or in this layer's checks): nothing more is
    /// said about them or about the fields inside them.
    public let failedPaths: Set<String>
    /// The problems added, in order.
    public private(set) var problems: [String] = []
    /// The paths that problems were added at.
    public private(set) var reportedPaths: Set<String> = []

    /// Creates an empty list.
    ///
    /// - Parameters:
    ///   - source: The name prefixing every message.
    ///   - failedPaths: Paths to stay quiet about.
    public init(source: String, failedPaths: Set<String>) {
        self.source = source
        self.failedPaths = failedPaths
    }

    /// Whether `path` or a path containing it (`nodes[0]` for `nodes[0].port`) failed.
    ///
    /// - Parameter path: A field's path.
    /// - Returns: Whether it, or a section holding it, is in ``failedPaths``.
    public func hasFailed(_ path: String) -> Bool {
        guard !failedPaths.isEmpty else { return false }
        if failedPaths.contains(path) { return true }
        var prefix = ""
        for character in path {
            if character == "." || character == "[", failedPaths.contains(prefix) {
                return true
            }
            prefix.append(character)
        }
        return false
    }

    /// Whether some path inside `path` (`nodes[0].slots[2]` for `nodes[0].slots`) failed.
    func hasFailures(under path: String) -> Bool {
        failedPaths.contains { $0.hasPrefix(path + "[") || $0.hasPrefix(path + ".") }
    }

    /// Adds a problem about `path` (the whole document when empty), unless that field
    /// already failed.
    ///
    /// - Parameters:
    ///   - path: The field's path.
    ///   - message: What is wrong and what to do.
    public mutating func add(at path: String, _ message: String) {
        if !path.isEmpty, hasFailed(path) { return }
        reportedPaths.insert(path)
        problems.append(path.isEmpty ? "\(source): \(message)" : "\(source): \(path): \(message)")
    }

    /// Checks one timeout field: positive and at most
    /// ``ClusterConfig/maxTimeoutMilliseconds`` (one day).
    ///
    /// - Parameters:
    ///   - duration: The value.
    ///   - path: The field's path, e.g. `timeouts.commandMs`.
    /// - Returns: Whether its value is in range, so checks against it may run.
    public mutating func checkTimeout(_ duration: Duration, at path: String) -> Bool {
        let most = ClusterConfig.maxTimeoutMilliseconds
        if duration <= .zero {
            add(at: path, "must be positive, got \(duration.wholeMilliseconds)")
            return false
        }
        if duration > .milliseconds(most) {
            add(at: path, "must be at most \(most) (one day), got \(duration.wholeMilliseconds)")
            return false
        }
        return true
    }
}

extension Duration {
    /// The duration in whole milliseconds, rounded toward zero, saturating at `Int` bounds,
    /// as cluster.json writes durations (`...Ms` fields).
    public var wholeMilliseconds: Int {
        let (seconds, attoseconds) = components
        let (milliseconds, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        if overflow { return seconds < 0 ? .min : .max }
        return Int(milliseconds) + Int(attoseconds / 1_000_000_000_000_000)
    }
}
