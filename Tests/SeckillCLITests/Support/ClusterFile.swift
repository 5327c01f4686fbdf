/// cluster.json text for tests, in the documented format (see `ClusterConfig`).
enum ClusterFile {
    /// One node: its name, port and slot ranges (host is always 127.0.0.1).
    struct Node {
        var name: String
        var port: Int
        var slots: [ClosedRange<Int>]
    }

    /// The slot ranges of `redis-cli --cluster create` over three nodes, as in the shipped cluster.json.
    static let evenRanges: [ClosedRange<Int>] = [0...5460, 5461...10922, 10923...16383]

    /// 50%, 30% and 20% of the slots.
    static let unevenRanges: [ClosedRange<Int>] = [0...8191, 8192...13106, 13107...16383]

    /// Three nodes `node-a`, `node-b`, `node-c` on `ports` with `ranges`.
    static func threeNodes(
        ports: [Int] = [7000, 7001, 7002], ranges: [ClosedRange<Int>] = evenRanges,
        authEnv: String? = nil
    ) -> String {
        let nodes = zip(["node-a", "node-b", "node-c"], zip(ports, ranges)).map { name, pair in
            Node(name: name, port: pair.0, slots: [pair.1])
        }
        return text(nodes, authEnv: authEnv)
    }

    /// A config with `nodes` and an optional `auth` section naming the password variable.
    /// A stopped node refuses connections at once, so no test waits out these timeouts; they
    /// are 2 s rather than shorter so that a loaded machine (the whole suite in parallel on
    /// two cores) does not time out a command that would have been answered.
    static func text(_ nodes: [Node], authEnv: String? = nil) -> String {
        let lines = nodes.map { node in
            let slots = node.slots.map { "[\($0.lowerBound), \($0.upperBound)]" }.joined(separator: ", ")
            return "    {\"name\": \"\(node.name)\", \"host\": \"127.0.0.1\", \"port\": \(node.port), \"slots\": [\(slots)]}"
        }
        var sections = [
            "  \"nodes\": [\n" + lines.joined(separator: ",\n") + "\n  ]",
            "  \"pool\": {\"connectionsPerNode\": 2, \"maxInFlightPerNode\": 1024, \"acquireTimeoutMs\": 500}",
            "  \"timeouts\": {\"connectMs\": 2000, \"commandMs\": 2000}",
        ]
        if let authEnv {
            sections.append("  \"auth\": {\"passwordEnv\": \"\(authEnv)\"}")
        }
        return "{\n" + sections.joined(separator: ",\n") + "\n}\n"
    }
}
