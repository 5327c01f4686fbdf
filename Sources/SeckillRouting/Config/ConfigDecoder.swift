/// Turns a parsed cluster.json document into a ``ClusterConfig``, checking shape and
/// types and rejecting unknown fields.
///
/// It never stops at the first problem: fields that fail to decode get placeholder
/// values and their paths go into ``failedPaths`` so that validation does not report
/// consequences of the same mistake twice. Range and consistency checks live in
/// `ClusterConfig+Validation.swift`, shared with configs built in code.
struct ConfigDecoder {
    static let topLevelFields = ["mode", "nodes", "seeds", "pool", "timeouts", "auth", "database", "topology", "durability", "sale"]
    static let nodeFields = ["name", "host", "port", "slots"]
    static let seedFields = ["host", "port"]
    static let poolFields = [
        "connectionsPerNode", "maxInFlightPerNode", "acquireTimeoutMs", "reconnectMinMs", "reconnectMaxMs", "maxReplyBytes",
    ]
    static let timeoutFields = ["connectMs", "commandMs"]
    static let authFields = ["username", "passwordEnv"]
    static let topologyFields = ["refreshIntervalMs", "maxRedirects"]
    static let durabilityFields = ["replicas", "timeoutMs"]
    static let saleFields = ["callDeadlineMs", "allowEvictionPolicy"]
    /// Fields that were removed, with why, so a file that still has one gets told what to do.
    static let removedFields = [
        "sale.requestTtlSeconds": "no longer used: request records now live as long as their item; remove the field"
    ]

    let source: String
    private(set) var problems: [String] = []
    /// Field paths (`nodes[0].port`) whose value could not be decoded.
    private(set) var failedPaths: Set<String> = []
    /// False when some slot range could not be decoded, so gaps would be guesses.
    private(set) var coverageCheckable = true

    init(source: String) {
        self.source = source
    }

    mutating func decode(_ document: JSONValue) -> ClusterConfig {
        var config = ClusterConfig(source: source)
        guard case .object(let root) = document else {
            report(at: "", "expected a JSON object at the top level, got \(document.kindDescription)")
            markFailed("nodes")
            coverageCheckable = false
            return config
        }
        rejectUnknownFields(of: root, at: "", known: Self.topLevelFields)

        decodeMembership(of: root, into: &config)
        if let pool = root["pool"], let object = object(pool, at: "pool") {
            config.pool = decodePool(object)
        }
        if let timeouts = root["timeouts"], let object = object(timeouts, at: "timeouts") {
            config.timeouts = decodeTimeouts(object)
        }
        if let auth = root["auth"], let object = object(auth, at: "auth") {
            config.auth = decodeAuth(object)
        }
        if let database = root["database"], let number = integer(database, at: "database") {
            config.database = number
        }
        if let topology = root["topology"], let object = object(topology, at: "topology") {
            config.topology = decodeTopology(object)
        }
        if let durability = root["durability"], let object = object(durability, at: "durability") {
            config.durability = decodeDurability(object)
        }
        if let sale = root["sale"], let object = object(sale, at: "sale") {
            config.sale = decodeSale(object)
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
                report(at: "", "missing required field \"nodes\"; list the Redis nodes and their slot ranges")
                markFailed("nodes")
                coverageCheckable = false
            }
            if root["seeds"] != nil {
                if modeKnown { report(at: "seeds", ClusterConfig.seedsOutsideClusterMode) }
                markFailed("seeds")
            }
        case .cluster:
            if root["nodes"] != nil {
                if modeKnown { report(at: "nodes", ClusterConfig.nodesInClusterMode) }
                markFailed("nodes")
            }
            if let seeds = root["seeds"] {
                config.seeds = decodeSeeds(seeds)
            } else {
                report(
                    at: "",
                    #"missing required field "seeds"; list one or more nodes of the Redis Cluster to discover it from, e.g. [{"host": "127.0.0.1", "port": 7100}]"#
                )
                markFailed("seeds")
            }
            coverageCheckable = false
        }
    }

    private mutating func decodeMode(_ value: JSONValue) -> ClusterMode {
        guard let text = string(value, at: "mode") else { return .static }
        guard let mode = ClusterMode(rawValue: text) else {
            let allowed = ClusterMode.allCases.map(\.rawValue).joined(separator: ", ")
            fail("mode", "\(JSONWriter.quoted(text)) is not one of \(allowed)")
            return .static
        }
        return mode
    }

    private mutating func decodeSeeds(_ value: JSONValue) -> [NodeAddress] {
        guard case .array(let elements) = value else {
            fail("seeds", #"expected an array of {"host": ..., "port": ...} objects, got \#(value.kindDescription)"#)
            return []
        }
        return elements.enumerated().map { index, element in
            decodeSeed(element, at: "seeds[\(index)]")
        }
    }

    private mutating func decodeSeed(_ value: JSONValue, at path: String) -> NodeAddress {
        var address = NodeAddress(host: "", port: 0)
        guard let object = object(value, at: path) else { return address }
        rejectUnknownFields(of: object, at: path, known: Self.seedFields)
        if let host = required("host", in: object, at: path), let string = string(host, at: path + ".host") {
            address.host = string
        }
        if let port = required("port", in: object, at: path), let number = integer(port, at: path + ".port") {
            address.port = number
        }
        return address
    }

    private mutating func decodeNodes(_ value: JSONValue) -> [NodeConfig] {
        guard case .array(let elements) = value else {
            fail("nodes", "expected an array of nodes, got \(value.kindDescription)")
            coverageCheckable = false
            return []
        }
        return elements.enumerated().map { index, element in
            decodeNode(element, at: "nodes[\(index)]")
        }
    }

    private mutating func decodeNode(_ value: JSONValue, at path: String) -> NodeConfig {
        var node = NodeConfig(name: "", host: "", port: 0, slots: [])
        guard let object = object(value, at: path) else {
            coverageCheckable = false
            return node
        }
        rejectUnknownFields(of: object, at: path, known: Self.nodeFields)
        if let name = required("name", in: object, at: path), let string = string(name, at: path + ".name") {
            node.name = string
        }
        if let host = required("host", in: object, at: path), let string = string(host, at: path + ".host") {
            node.host = string
        }
        if let port = required("port", in: object, at: path), let number = integer(port, at: path + ".port") {
            node.port = number
        }
        if let slots = required("slots", in: object, at: path) {
            node.slots = decodeSlots(slots, at: path + ".slots")
        } else {
            coverageCheckable = false
        }
        return node
    }

    private mutating func decodeSlots(_ value: JSONValue, at path: String) -> [ClosedRange<Int>] {
        guard case .array(let entries) = value else {
            fail(path, "expected an array of [start, end] pairs, got \(value.kindDescription)")
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
                fail(entryPath, "expected a pair of integers [start, end], got \(Self.excerpt(entry))")
                coverageCheckable = false
                continue
            }
            guard let start = first.intValue, let end = second.intValue else {
                let huge = first.intValue == nil ? first : second
                fail(entryPath, "\(huge.literal) is out of range 0-16383")
                coverageCheckable = false
                continue
            }
            if start > end {
                fail(entryPath, "start \(start) is after end \(end)")
                // Most likely swapped: count it as written backwards for the coverage check.
                ranges.append(end...start)
            } else {
                ranges.append(start...end)
            }
        }
        return ranges
    }

    private mutating func decodePool(_ object: JSONObject) -> PoolSettings {
        rejectUnknownFields(of: object, at: "pool", known: Self.poolFields)
        var pool = PoolSettings()
        if let number = integer("connectionsPerNode", in: object, at: "pool") {
            pool.connectionsPerNode = number
        }
        if let number = integer("maxInFlightPerNode", in: object, at: "pool") {
            pool.maxInFlightPerNode = number
        }
        if let number = integer("acquireTimeoutMs", in: object, at: "pool") {
            pool.acquireTimeout = .milliseconds(number)
        }
        if let number = integer("reconnectMinMs", in: object, at: "pool") {
            pool.reconnectMin = .milliseconds(number)
        }
        if let number = integer("reconnectMaxMs", in: object, at: "pool") {
            pool.reconnectMax = .milliseconds(number)
        }
        if let number = integer("maxReplyBytes", in: object, at: "pool") {
            pool.maxReplyBytes = number
        }
        return pool
    }

    private mutating func decodeTimeouts(_ object: JSONObject) -> TimeoutSettings {
        rejectUnknownFields(of: object, at: "timeouts", known: Self.timeoutFields)
        var timeouts = TimeoutSettings()
        if let number = integer("connectMs", in: object, at: "timeouts") {
            timeouts.connect = .milliseconds(number)
        }
        if let number = integer("commandMs", in: object, at: "timeouts") {
            timeouts.command = .milliseconds(number)
        }
        return timeouts
    }

    private mutating func decodeAuth(_ object: JSONObject) -> AuthSettings {
        rejectUnknownFields(of: object, at: "auth", known: Self.authFields)
        var auth = AuthSettings(passwordEnv: "")
        if let value = object["username"], let string = string(value, at: "auth.username") {
            auth.username = string
        }
        if let value = required("passwordEnv", in: object, at: "auth"), let string = string(value, at: "auth.passwordEnv") {
            auth.passwordEnv = string
        }
        return auth
    }

    private mutating func decodeTopology(_ object: JSONObject) -> TopologySettings {
        rejectUnknownFields(of: object, at: "topology", known: Self.topologyFields)
        var topology = TopologySettings()
        if let number = integer("refreshIntervalMs", in: object, at: "topology") {
            topology.refreshInterval = .milliseconds(number)
        }
        if let number = integer("maxRedirects", in: object, at: "topology") {
            topology.maxRedirects = number
        }
        return topology
    }

    private mutating func decodeDurability(_ object: JSONObject) -> DurabilitySettings {
        rejectUnknownFields(of: object, at: "durability", known: Self.durabilityFields)
        var durability = DurabilitySettings()
        if let number = integer("replicas", in: object, at: "durability") {
            durability.replicas = number
        }
        if let number = integer("timeoutMs", in: object, at: "durability") {
            durability.timeout = .milliseconds(number)
        }
        return durability
    }

    private mutating func decodeSale(_ object: JSONObject) -> SaleSettings {
        rejectUnknownFields(of: object, at: "sale", known: Self.saleFields)
        var sale = SaleSettings()
        if let number = integer("callDeadlineMs", in: object, at: "sale") {
            sale.callDeadline = .milliseconds(number)
        }
        if let value = object["allowEvictionPolicy"], let flag = bool(value, at: "sale.allowEvictionPolicy") {
            sale.allowEvictionPolicy = flag
        }
        return sale
    }

    // MARK: - Typed access

    private mutating func object(_ value: JSONValue, at path: String) -> JSONObject? {
        guard case .object(let object) = value else {
            fail(path, "expected an object, got \(value.kindDescription)")
            return nil
        }
        return object
    }

    private mutating func bool(_ value: JSONValue, at path: String) -> Bool? {
        guard case .bool(let flag) = value else {
            fail(path, "expected true or false, got \(value.kindDescription)")
            return nil
        }
        return flag
    }

    private mutating func string(_ value: JSONValue, at path: String) -> String? {
        guard case .string(let string) = value else {
            fail(path, "expected a string, got \(value.kindDescription)")
            return nil
        }
        return string
    }

    /// The optional integer field `key` of a section, checked; nil when absent or invalid
    /// (the problem is recorded).
    private mutating func integer(_ key: String, in object: JSONObject, at section: String) -> Int? {
        guard let value = object[key] else { return nil }
        return integer(value, at: "\(section).\(key)")
    }

    private mutating func integer(_ value: JSONValue, at path: String) -> Int? {
        guard case .number(let number) = value, number.isInteger else {
            let got = if case .number(let number) = value { number.literal } else { value.kindDescription }
            fail(path, "expected an integer, got \(got)")
            return nil
        }
        guard let integer = number.intValue else {
            fail(path, "\(number.literal) does not fit in a 64-bit integer")
            return nil
        }
        return integer
    }

    private mutating func required(_ key: String, in object: JSONObject, at path: String) -> JSONValue? {
        guard let value = object[key] else {
            report(at: path, "missing required field \"\(key)\"")
            markFailed(Self.join(path, key))
            return nil
        }
        return value
    }

    private mutating func rejectUnknownFields(of object: JSONObject, at path: String, known: [String]) {
        for key in object.keys where !known.contains(key) {
            if path == "auth", key == "password" {
                report(
                    at: "auth.password",
                    "the password must not be written in the config; put it in an environment variable and name that variable in \"passwordEnv\", e.g. \"passwordEnv\": \"SECKILL_REDIS_PASSWORD\""
                )
                continue
            }
            if let why = Self.removedFields[Self.join(path, key)] {
                report(at: Self.join(path, key), why)
                continue
            }
            var message = "unknown field \(JSONWriter.quoted(key))"
            if let suggestion = FieldSuggestion.closest(to: key, among: known) {
                message += " (did you mean \(JSONWriter.quoted(suggestion))?)"
            } else {
                message += "; known fields are " + known.joined(separator: ", ")
            }
            report(at: path, message)
        }
    }

    // MARK: - Reporting

    private mutating func report(at path: String, _ message: String) {
        problems.append(path.isEmpty ? "\(source): \(message)" : "\(source): \(path): \(message)")
    }

    private mutating func markFailed(_ path: String) {
        failedPaths.insert(path)
    }

    private mutating func fail(_ path: String, _ message: String) {
        report(at: path, message)
        markFailed(path)
    }

    private static func join(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : path + "." + key
    }

    /// A value as short JSON for messages, cut at 40 characters.
    private static func excerpt(_ value: JSONValue) -> String {
        let text = value.description
        return text.count <= 40 ? text : String(text.prefix(37)) + "..."
    }
}
