extension ClusterConfig {
    /// Writes the config as pretty cluster.json text that ``parse(_:source:)`` reads back
    /// to an equal config (apart from ``source``).
    ///
    /// One node per line, sections in the documented order; `reconnectMinMs` and
    /// `reconnectMaxMs` only when they differ from the defaults, `auth` only when set,
    /// `database` only when not 0. Durations are written in whole milliseconds (a
    /// positive sub-millisecond duration is written as 1).
    ///
    /// - Returns: The JSON text, ending with a newline.
    public func render() -> String {
        var lines = ["{"]
        var sections: [String] = []

        let nodeLines = nodes.map { node in
            let slots = node.slots.map { "[\($0.lowerBound), \($0.upperBound)]" }.joined(separator: ", ")
            return "    {\"name\": \(JSONWriter.quoted(node.name)), \"host\": \(JSONWriter.quoted(node.host)), \"port\": \(node.port), \"slots\": [\(slots)]}"
        }
        sections.append("  \"nodes\": [\n" + nodeLines.joined(separator: ",\n") + "\n  ]")

        var poolFields = [
            "\"connectionsPerNode\": \(pool.connectionsPerNode)",
            "\"maxInFlightPerNode\": \(pool.maxInFlightPerNode)",
            "\"acquireTimeoutMs\": \(Self.renderedMilliseconds(pool.acquireTimeout))",
        ]
        if pool.reconnectMin != PoolSettings.defaults.reconnectMin || pool.reconnectMax != PoolSettings.defaults.reconnectMax {
            poolFields.append("\"reconnectMinMs\": \(Self.renderedMilliseconds(pool.reconnectMin))")
            poolFields.append("\"reconnectMaxMs\": \(Self.renderedMilliseconds(pool.reconnectMax))")
        }
        sections.append("  \"pool\": {" + poolFields.joined(separator: ", ") + "}")
        sections.append("  \"timeouts\": {\"connectMs\": \(Self.renderedMilliseconds(timeouts.connect)), \"commandMs\": \(Self.renderedMilliseconds(timeouts.command))}")

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
        lines.append(sections.joined(separator: ",\n"))
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    private static func renderedMilliseconds(_ duration: Duration) -> Int {
        let milliseconds = duration.wholeMilliseconds
        return milliseconds == 0 && duration > .zero ? 1 : milliseconds
    }
}
