extension ClusterConfig {
    /// Writes the config as pretty cluster.json text that ``parse(_:source:)`` reads back
    /// to an equal config (apart from ``source``).
    ///
    /// One node or seed per line, sections in the documented order. Static mode writes
    /// `nodes` and no `mode`; cluster mode writes `"mode": "cluster"` and `seeds`.
    /// `reconnectMinMs` and `reconnectMaxMs`, and `maxReplyBytes`, only when they differ from the defaults,
    /// `auth` only when set, `database` only when not 0, and `topology` (both fields) only
    /// when it differs from its defaults. The sections of the layers above (``sections``)
    /// follow, in ``ownedSectionNames`` order, written as they were read. Durations are
    /// written in whole milliseconds (a positive duration shorter than a millisecond
    /// is written as 1).
    ///
    /// - Returns: The JSON text, ending with a newline.
    public func render() -> String {
        var lines = ["{"]
        var sections: [String] = []

        // A config that is invalid for its mode still writes what it holds, so parsing
        // the text reports the same mistake.
        if mode != .static {
            sections.append("  \"mode\": \(JSONWriter.quoted(mode.rawValue))")
        }
        if mode == .static || !nodes.isEmpty {
            let nodeLines = nodes.map { node in
                let slots = node.slots.map { "[\($0.lowerBound), \($0.upperBound)]" }.joined(separator: ", ")
                return
                    "    {\"name\": \(JSONWriter.quoted(node.name)), \"host\": \(JSONWriter.quoted(node.host)), \"port\": \(node.port), \"slots\": [\(slots)]}"
            }
            sections.append(Self.renderedList("nodes", nodeLines))
        }
        if mode == .cluster || !seeds.isEmpty {
            let seedLines = seeds.map { seed in
                "    {\"host\": \(JSONWriter.quoted(seed.host)), \"port\": \(seed.port)}"
            }
            sections.append(Self.renderedList("seeds", seedLines))
        }

        var poolFields = pool.connectionsPerNode.map { ["\"connectionsPerNode\": \($0)"] } ?? []
        poolFields += [
            "\"maxInFlightPerNode\": \(pool.maxInFlightPerNode)",
            "\"acquireTimeoutMs\": \(Self.renderedMilliseconds(pool.acquireTimeout))",
        ]
        if pool.reconnectMin != PoolSettings.defaults.reconnectMin || pool.reconnectMax != PoolSettings.defaults.reconnectMax {
            poolFields.append("\"reconnectMinMs\": \(Self.renderedMilliseconds(pool.reconnectMin))")
            poolFields.append("\"reconnectMaxMs\": \(Self.renderedMilliseconds(pool.reconnectMax))")
        }
        if pool.maxReplyBytes != PoolSettings.defaults.maxReplyBytes {
            poolFields.append("\"maxReplyBytes\": \(pool.maxReplyBytes)")
        }
        sections.append("  \"pool\": {" + poolFields.joined(separator: ", ") + "}")
        sections.append(
            "  \"timeouts\": {\"connectMs\": \(Self.renderedMilliseconds(timeouts.connect)), \"commandMs\": \(Self.renderedMilliseconds(timeouts.command))}"
        )

        if let auth {
            var authFields: [String] = []
            if let username = auth.username {
                authFields.append("\"username\": \(JSONWriter.quoted(username))")
            }
            authFields.append("\"passwordEnv\": \(JSONWriter.quoted(auth.passwordEnv))")
            sections.append("  \"auth\": {" + authFields.joined(separator: ", ") + "}")
        }
        if database != 0 {
            sections.append("  \"database\": \(database)")
        }
        if topology != .defaults {
            sections.append(
                "  \"topology\": {\"refreshIntervalMs\": \(Self.renderedMilliseconds(topology.refreshInterval)), \"maxRedirects\": \(topology.maxRedirects)}"
            )
        }
        for name in Self.ownedSectionNames {
            if let section = self.sections[name] {
                sections.append("  \(JSONWriter.quoted(name)): \(JSONWriter.compact(section))")
            }
        }
        lines.append(sections.joined(separator: ",\n"))
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// `"name": [` and one element per line, or `"name": []` when there are none.
    private static func renderedList(_ name: String, _ lines: [String]) -> String {
        lines.isEmpty ? "  \"\(name)\": []" : "  \"\(name)\": [\n" + lines.joined(separator: ",\n") + "\n  ]"
    }

    private static func renderedMilliseconds(_ duration: Duration) -> Int {
        let milliseconds = duration.wholeMilliseconds
        return milliseconds == 0 && duration > .zero ? 1 : milliseconds
    }
}
