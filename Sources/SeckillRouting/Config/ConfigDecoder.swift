/// Turns a parsed cluster.json document into a ``ClusterConfig``, checking shape and
/// types and rejecting unknown fields.
///
/// It never stops at the first problem: fields that fail to decode get placeholder
/// values and their paths go into ``failedPaths`` so that validation does not report
/// consequences of the same mistake twice. Range and consistency checks live in
/// `ClusterConfig+Validation.swift`, shared with configs built in code. The sections owned
/// by the layers above (``ClusterConfig/ownedSectionNames``) are kept as written, unread.
struct ConfigDecoder {
    static let topLevelFields =
        ["mode", "nodes", "seeds", "pool", "timeouts", "auth", "database", "topology"] + ClusterConfig.ownedSectionNames
    static let nodeFields = ["name", "host", "port", "slots"]
    static let seedFields = ["host", "port"]
    static let poolFields = [
        "connectionsPerNode", "maxInFlightPerNode", "acquireTimeoutMs", "reconnectMinMs", "reconnectMaxMs", "maxReplyBytes",
    ]
    static let timeoutFields = ["connectMs", "commandMs"]
    static let authFields = ["username", "passwordEnv"]
    static let topologyFields = ["refreshIntervalMs", "maxRedirects"]
    /// Fields that must not be there, with why, so a file that has one gets told what to do.
    static let removedAuthFields = [
        "password":
            "the password must not be written in the config; put it in an environment variable and name that variable in \"passwordEnv\", e.g. \"passwordEnv\": \"SECKILL_REDIS_PASSWORD\""
    ]

    private(set) var reader: ConfigReader
    /// False when some slot range could not be decoded, so gaps would be guesses.
    private(set) var coverageCheckable = true

    init(source: String) {
        self.reader = ConfigReader(source: source)
    }

    var source: String { reader.source }
    var problems: [String] { reader.problems }
    /// Field paths (`nodes[0].port`) whose value could not be decoded.
    var failedPaths: Set<String> { reader.failedPaths }

    mutating func decode(_ document: JSONValue) -> ClusterConfig {
        var config = ClusterConfig(source: source)
        guard case .object(let root) = document else {
            reader.report(at: "", "expected a JSON object at the top level, got \(document.kindDescription)")
            reader.markFailed("nodes")
            coverageCheckable = false
            return config
        }
        reader.rejectUnknownFields(of: root, at: "", known: Self.topLevelFields)

        decodeMembership(of: root, into: &config)
        if let pool = root["pool"], let object = reader.object(pool, at: "pool") {
            config.pool = decodePool(object)
        }
        if let timeouts = root["timeouts"], let object = reader.object(timeouts, at: "timeouts") {
            config.timeouts = decodeTimeouts(object)
        }
        if let auth = root["auth"], let object = reader.object(auth, at: "auth") {
            config.auth = decodeAuth(object)
        }
        if let database = root["database"], let number = reader.integer(database, at: "database") {
            config.database = number
        }
        if let topology = root["topology"], let object = reader.object(topology, at: "topology") {
            config.topology = decodeTopology(object)
        }
        for name in ClusterConfig.ownedSectionNames {
            if let section = root[name] { config.sections[name] = section }
        }
        return config
    }

    // MARK: - Sections

    /// Reads `mode`, then `nodes` or `seeds`, whichever that mode needs.
    private mutating func decodeMembership(of root: JSONObject, into config: inout ClusterConfig) {
        if let mode = root["mode"] {
            config.mode = decodeMode(mode)
        }
        // With an unreadable mode, check the file against the mode its content suggests
        // and stay quiet about which of nodes and seeds belongs to it.
        let modeKnown = !failedPaths.contains("mode")
        if !modeKnown {
            config.mode = root["seeds"] != nil && root["nodes"] == nil ? .cluster : .static
        }
        switch config.mode {
        case .static:
            if let nodes = root["nodes"] {
                config.nodes = decodeNodes(nodes)
            } else {
                reader.report(at: "", "missing required field \"nodes\"; list the Redis nodes and their slot ranges")
                reader.markFailed("nodes")
                coverageCheckable = false
            }
            if root["seeds"] != nil {
                if modeKnown { reader.report(at: "seeds", ClusterConfig.seedsOutsideClusterMode) }
                reader.markFailed("seeds")
            }
        case .cluster:
            if root["nodes"] != nil {
                if modeKnown { reader.report(at: "nodes", ClusterConfig.nodesInClusterMode) }
                reader.markFailed("nodes")
            }
            if let seeds = root["seeds"] {
                config.seeds = decodeSeeds(seeds)
            } else {
                reader.report(
                    at: "",
                    #"missing required field "seeds"; list one or more nodes of the Redis Cluster to discover it from, e.g. [{"host": "127.0.0.1", "port": 7100}]"#
                )
                reader.markFailed("seeds")
            }
            coverageCheckable = false
        }
    }

    private mutating func decodeMode(_ value: JSONValue) -> ClusterMode {
        guard let text = reader.string(value, at: "mode") else { return .static }
        guard let mode = ClusterMode(rawValue: text) else {
            let allowed = ClusterMode.allCases.map(\.rawValue).joined(separator: ", ")
            reader.fail("mode", "\(JSONWriter.quoted(text)) is not one of \(allowed)")
            return .static
        }
        return mode
    }

    private mutating func decodeSeeds(_ value: JSONValue) -> [NodeAddress] {
        guard case .array(let elements) = value else {
            reader.fail("seeds", #"expected an array of {"host": ..., "port": ...} objects, got \#(value.kindDescription)"#)
            return []
        }
        return elements.enumerated().map { index, element in
            decodeSeed(element, at: "seeds[\(index)]")
        }
    }

    private mutating func decodeSeed(_ value: JSONValue, at path: String) -> NodeAddress {
        var address = NodeAddress(host: "", port: 0)
        guard let object = reader.object(value, at: path) else { return address }
        reader.rejectUnknownFields(of: object, at: path, known: Self.seedFields)
        if let host = reader.required("host", in: object, at: path), let string = reader.string(host, at: path + ".host") {
            address.host = string
        }
        if let port = reader.required("port", in: object, at: path), let number = reader.integer(port, at: path + ".port") {
            address.port = number
        }
        return address
    }

    private mutating func decodeNodes(_ value: JSONValue) -> [NodeConfig] {
        guard case .array(let elements) = value else {
            reader.fail("nodes", "expected an array of nodes, got \(value.kindDescription)")
            coverageCheckable = false
            return []
        }
        return elements.enumerated().map { index, element in
            decodeNode(element, at: "nodes[\(index)]")
        }
    }

    private mutating func decodeNode(_ value: JSONValue, at path: String) -> NodeConfig {
        var node = NodeConfig(name: "", host: "", port: 0, slots: [])
        guard let object = reader.object(value, at: path) else {
            coverageCheckable = false
            return node
        }
        reader.rejectUnknownFields(of: object, at: path, known: Self.nodeFields)
        if let name = reader.required("name", in: object, at: path), let string = reader.string(name, at: path + ".name") {
            node.name = string
        }
        if let host = reader.required("host", in: object, at: path), let string = reader.string(host, at: path + ".host") {
            node.host = string
        }
        if let port = reader.required("port", in: object, at: path), let number = reader.integer(port, at: path + ".port") {
            node.port = number
        }
        if let slots = reader.required("slots", in: object, at: path) {
            node.slots = decodeSlots(slots, at: path + ".slots")
        } else {
            coverageCheckable = false
        }
        return node
    }

    private mutating func decodeSlots(_ value: JSONValue, at path: String) -> [ClosedRange<Int>] {
        guard case .array(let entries) = value else {
            reader.fail(path, "expected an array of [start, end] pairs, got \(value.kindDescription)")
            coverageCheckable = false
            return []
        }
        var ranges: [ClosedRange<Int>] = []
        for (index, entry) in entries.enumerated() {
            let entryPath = "\(path)[\(index)]"
            guard case .array(let pair) = entry, pair.count == 2,
                case .number(let first) = pair[0], first.isInteger,
                case .number(let second) = pair[1], second.isInteger
            else {
                reader.fail(entryPath, "expected a pair of integers [start, end], got \(Self.excerpt(entry))")
                coverageCheckable = false
                continue
            }
            guard let start = first.intValue, let end = second.intValue else {
                let huge = first.intValue == nil ? first : second
                reader.fail(entryPath, "\(huge.literal) is out of range 0-16383")
                coverageCheckable = false
                continue
            }
            if start > end {
                reader.fail(entryPath, "start \(start) is after end \(end)")
                // Most likely swapped: count it as written backwards for the coverage check.
                ranges.append(end...start)
            } else {
                ranges.append(start...end)
            }
        }
        return ranges
    }

    private mutating func decodePool(_ object: JSONObject) -> PoolSettings {
        reader.rejectUnknownFields(of: object, at: "pool", known: Self.poolFields)
        var pool = PoolSettings()
        if let number = reader.integer("connectionsPerNode", in: object, at: "pool") {
            pool.connectionsPerNode = number
        }
        if let number = reader.integer("maxInFlightPerNode", in: object, at: "pool") {
            pool.maxInFlightPerNode = number
        }
        if let number = reader.integer("acquireTimeoutMs", in: object, at: "pool") {
            pool.acquireTimeout = .milliseconds(number)
        }
        if let number = reader.integer("reconnectMinMs", in: object, at: "pool") {
            pool.reconnectMin = .milliseconds(number)
        }
        if let number = reader.integer("reconnectMaxMs", in: object, at: "pool") {
            pool.reconnectMax = .milliseconds(number)
        }
        if let number = reader.integer("maxReplyBytes", in: object, at: "pool") {
            pool.maxReplyBytes = number
        }
        return pool
    }

    private mutating func decodeTimeouts(_ object: JSONObject) -> TimeoutSettings {
        reader.rejectUnknownFields(of: object, at: "timeouts", known: Self.timeoutFields)
        var timeouts = TimeoutSettings()
        if let number = reader.integer("connectMs", in: object, at: "timeouts") {
            timeouts.connect = .milliseconds(number)
        }
        if let number = reader.integer("commandMs", in: object, at: "timeouts") {
            timeouts.command = .milliseconds(number)
        }
        return timeouts
    }

    private mutating func decodeAuth(_ object: JSONObject) -> AuthSettings {
        reader.rejectUnknownFields(of: object, at: "auth", known: Self.authFields, removed: Self.removedAuthFields)
        var auth = AuthSettings(passwordEnv: "")
        if let value = object["username"], let string = reader.string(value, at: "auth.username") {
            auth.username = string
        }
        if let value = reader.required("passwordEnv", in: object, at: "auth"), let string = reader.string(value, at: "auth.passwordEnv") {
            auth.passwordEnv = string
        }
        return auth
    }

    private mutating func decodeTopology(_ object: JSONObject) -> TopologySettings {
        reader.rejectUnknownFields(of: object, at: "topology", known: Self.topologyFields)
        var topology = TopologySettings()
        if let number = reader.integer("refreshIntervalMs", in: object, at: "topology") {
            topology.refreshInterval = .milliseconds(number)
        }
        if let number = reader.integer("maxRedirects", in: object, at: "topology") {
            topology.maxRedirects = number
        }
        return topology
    }

    /// A value as short JSON for messages, cut at 40 characters.
    private static func excerpt(_ value: JSONValue) -> String {
        let text = value.description
        return text.count <= 40 ? text : String(text.prefix(37)) + "..."
    }
}
