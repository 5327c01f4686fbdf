import SeckillRouting
import Testing

/// A cluster.json document with the given node objects and extra top-level members.
private func document(_ nodes: [String], extra: String = "") -> String {
    "{\n  \"nodes\": [\n    " + nodes.joined(separator: ",\n    ") + "\n  ]" + (extra.isEmpty ? "" : ",\n  " + extra) + "\n}"
}

private func node(_ name: String, port: Int, slots: String, host: String = "127.0.0.1") -> String {
    #"{"name": "\#(name)", "host": "\#(host)", "port": \#(port), "slots": \#(slots)}"#
}

private let evenNodes = [
    node("node-a", port: 7000, slots: "[[0, 5460]]"),
    node("node-b", port: 7001, slots: "[[5461, 10922]]"),
    node("node-c", port: 7002, slots: "[[10923, 16383]]"),
]

@Suite("ClusterConfig validation")
struct ClusterConfigValidationTests {
    @Test("a port outside 1-65535")
    func portOutOfRange() {
        var nodes = evenNodes
        nodes[1] = node("node-b", port: 70000, slots: "[[5461, 10922]]")
        #expect(problems(parsing: document(nodes)) == ["cluster.json: nodes[1].port: 70000 is out of range 1-65535"])
    }

    @Test("a port too big for 64 bits does not wrap around")
    func hugePort() {
        var nodes = evenNodes
        nodes[0] = node("node-a", port: 0, slots: "[[0, 5460]]").replacingPort(with: "99999999999999999999")
        #expect(
            problems(parsing: document(nodes)) == ["cluster.json: nodes[0].port: 99999999999999999999 does not fit in a 64-bit integer"])
    }

    @Test("a repeated node name")
    func duplicateName() {
        var nodes = evenNodes
        nodes[2] = node("node-a", port: 7002, slots: "[[10923, 16383]]")
        #expect(problems(parsing: document(nodes)) == [#"cluster.json: nodes[2].name: "node-a" is used by nodes[0] too"#])
    }

    @Test("empty names and hosts, and a repeated address")
    func emptyNameAndHost() {
        var nodes = evenNodes
        nodes[0] = node("", port: 7000, slots: "[[0, 5460]]")
        nodes[1] = node("node-b", port: 7001, slots: "[[5461, 10922]]", host: "")
        nodes[2] = node("node-c", port: 7000, slots: "[[10923, 16383]]")
        #expect(
            problems(parsing: document(nodes)) == [
                "cluster.json: nodes[0].name: must not be empty",
                "cluster.json: nodes[1].host: must not be empty",
                "cluster.json: nodes[2]: address 127.0.0.1:7000 is used by nodes[0] too",
            ])
    }

    @Test("a host written with its port or in brackets")
    func hostWithPort() {
        var nodes = evenNodes
        nodes[0] = node("node-a", port: 7000, slots: "[[0, 5460]]", host: "127.0.0.1:7000")
        nodes[1] = node("node-b", port: 7001, slots: "[[5461, 10922]]", host: "[::1]")
        #expect(
            problems(parsing: document(nodes)) == [
                #"cluster.json: nodes[0].host: "127.0.0.1:7000" looks like HOST:PORT; put the port in "port""#,
                #"cluster.json: nodes[1].host: write IPv6 addresses without brackets, e.g. "::1""#,
            ])
    }

    @Test("a slot range whose start is after its end")
    func reversedRange() {
        var nodes = evenNodes
        nodes[0] = node("node-a", port: 7000, slots: "[[0, 499], [600, 500], [601, 5460]]")
        #expect(problems(parsing: document(nodes)) == ["cluster.json: nodes[0].slots[1]: start 600 is after end 500"])
    }

    @Test("slot numbers outside 0-16383")
    func slotOutOfRange() {
        var nodes = evenNodes
        nodes[0] = node("node-a", port: 7000, slots: "[[-1, 5460]]")
        nodes[2] = node("node-c", port: 7002, slots: "[[10923, 16384]]")
        #expect(
            problems(parsing: document(nodes)) == [
                "cluster.json: nodes[0].slots[0]: start -1 is out of range 0-16383",
                "cluster.json: nodes[2].slots[0]: end 16384 is out of range 0-16383",
            ])
    }

    @Test("slot entries that are not a pair of integers")
    func notAPair() {
        var nodes = evenNodes
        nodes[0] = node("node-a", port: 7000, slots: #"[[0, 5460, 1], 5, [1, "2"], [1.5, 2]]"#)
        #expect(
            problems(parsing: document(nodes)) == [
                "cluster.json: nodes[0].slots[0]: expected a pair of integers [start, end], got [0, 5460, 1]",
                "cluster.json: nodes[0].slots[1]: expected a pair of integers [start, end], got 5",
                #"cluster.json: nodes[0].slots[2]: expected a pair of integers [start, end], got [1, "2"]"#,
                "cluster.json: nodes[0].slots[3]: expected a pair of integers [start, end], got [1.5, 2]",
            ])
    }

    @Test("a node without slots")
    func emptySlots() {
        let nodes = evenNodes + [node("node-d", port: 7003, slots: "[]")]
        #expect(
            problems(parsing: document(nodes)) == [
                "cluster.json: nodes[3].slots: is empty; give the node at least one [start, end] slot range"
            ])
    }

    @Test("every gap is reported as a range")
    func gaps() {
        let nodes = [
            node("node-a", port: 7000, slots: "[[0, 5460]]"),
            node("node-b", port: 7001, slots: "[[5471, 10922]]"),
            node("node-c", port: 7002, slots: "[[10924, 16382]]"),
        ]
        #expect(
            problems(parsing: document(nodes)) == [
                "cluster.json: slots 5461-5470 are not assigned to any node",
                "cluster.json: slot 10923 is not assigned to any node",
                "cluster.json: slot 16383 is not assigned to any node",
            ])
    }

    @Test("every overlap is reported as maximal ranges per pair of nodes")
    func overlaps() {
        let nodes = [
            node("node-a", port: 7000, slots: "[[0, 5460], [8000, 8009]]"),
            node("node-b", port: 7001, slots: "[[100, 200], [5461, 10922]]"),
            node("node-c", port: 7002, slots: "[[150, 150], [10923, 16383]]"),
        ]
        #expect(
            problems(parsing: document(nodes)) == [
                "cluster.json: slots 100-200 are assigned to both node-a and node-b",
                "cluster.json: slot 150 is assigned to both node-a and node-c",
                "cluster.json: slot 150 is assigned to both node-b and node-c",
                "cluster.json: slots 8000-8009 are assigned to both node-a and node-b",
            ])
    }

    @Test("a range listed twice for one node")
    func selfOverlap() {
        var nodes = evenNodes
        nodes[0] = node("node-a", port: 7000, slots: "[[0, 5460], [5000, 5100]]")
        #expect(problems(parsing: document(nodes)) == ["cluster.json: slots 5000-5100 are listed more than once for node-a"])
    }

    @Test("a file with both a gap and an overlap reports both")
    func gapAndOverlap() {
        let nodes = [
            node("node-a", port: 7000, slots: "[[0, 5470]]"),
            node("node-b", port: 7001, slots: "[[5461, 10900]]"),
            node("node-c", port: 7002, slots: "[[10923, 16383]]"),
        ]
        #expect(
            problems(parsing: document(nodes)) == [
                "cluster.json: slots 10901-10922 are not assigned to any node",
                "cluster.json: slots 5461-5470 are assigned to both node-a and node-b",
            ])
    }

    @Test("pool sizes and timeouts must be positive")
    func positiveSettings() {
        #expect(
            problems(parsing: document(evenNodes, extra: #""pool": {"acquireTimeoutMs": 0}"#))
                == ["cluster.json: pool.acquireTimeoutMs: must be positive, got 0"])
        let extra =
            #""pool": {"connectionsPerNode": 0, "maxInFlightPerNode": -5, "reconnectMinMs": 0}, "timeouts": {"connectMs": -1, "commandMs": 86400001}"#
        #expect(
            problems(parsing: document(evenNodes, extra: extra)) == [
                "cluster.json: pool.connectionsPerNode: must be positive, got 0",
                "cluster.json: pool.maxInFlightPerNode: must be positive, got -5",
                "cluster.json: pool.reconnectMinMs: must be positive, got 0",
                "cluster.json: timeouts.connectMs: must be positive, got -1",
                "cluster.json: timeouts.commandMs: must be at most 86400000 (one day), got 86400001",
            ])
    }

    @Test("the reconnect delay bounds must be ordered")
    func reconnectOrder() {
        #expect(
            problems(parsing: document(evenNodes, extra: #""pool": {"reconnectMinMs": 3000}"#))
                == ["cluster.json: pool.reconnectMinMs: 3000 is greater than pool.reconnectMaxMs (2000)"])
    }

    @Test("the database must not be negative")
    func negativeDatabase() {
        #expect(
            problems(parsing: document(evenNodes, extra: #""database": -1"#)) == ["cluster.json: database: must be 0 or greater, got -1"])
    }

    @Test("unknown fields are rejected by name, with a suggestion when one is close")
    func unknownFields() {
        let json = """
            {
              "nodez": [],
              "nodes": [
                {"name": "node-a", "host": "127.0.0.1", "prot": 7000, "port": 7000, "slots": [[0, 16383]]}
              ],
              "timeouts": {"connectTimeout": 5}
            }
            """
        #expect(
            problems(parsing: json) == [
                #"cluster.json: unknown field "nodez" (did you mean "nodes"?)"#,
                #"cluster.json: nodes[0]: unknown field "prot" (did you mean "port"?)"#,
                #"cluster.json: timeouts: unknown field "connectTimeout"; known fields are connectMs, commandMs"#,
            ])
    }

    @Test("a password in the file is rejected in favour of passwordEnv")
    func passwordRejected() {
        let extra = #""auth": {"username": "default", "password": "hunter2", "passwordEnv": "PW"}"#
        #expect(
            problems(parsing: document(evenNodes, extra: extra)) == [
                #"cluster.json: auth.password: the password must not be written in the config; put it in an environment variable and name that variable in "passwordEnv", e.g. "passwordEnv": "SECKILL_REDIS_PASSWORD""#
            ])
    }

    @Test("auth needs a valid passwordEnv")
    func passwordEnvRequired() {
        #expect(
            problems(parsing: document(evenNodes, extra: #""auth": {"username": "default"}"#))
                == [#"cluster.json: auth: missing required field "passwordEnv""#])
        #expect(
            problems(parsing: document(evenNodes, extra: #""auth": {"passwordEnv": "1-PW", "username": ""}"#)) == [
                "cluster.json: auth.username: must not be empty; omit it to use the default user",
                #"cluster.json: auth.passwordEnv: "1-PW" is not a valid environment variable name (letters, digits and _, not starting with a digit)"#,
            ])
    }

    @Test("wrong types name the field and both types")
    func wrongTypes() {
        let json = """
            {
              "nodes": [{"name": 1, "host": "127.0.0.1", "port": "7000", "slots": [[0, 16383]]}],
              "pool": {"acquireTimeoutMs": 0.5},
              "timeouts": [],
              "database": null
            }
            """
        #expect(
            problems(parsing: json) == [
                "cluster.json: nodes[0].name: expected a string, got an integer",
                "cluster.json: nodes[0].port: expected an integer, got a string",
                "cluster.json: pool.acquireTimeoutMs: expected an integer, got 0.5",
                "cluster.json: timeouts: expected an object, got an array",
                "cluster.json: database: expected an integer, got null",
            ])
    }

    @Test("missing or empty nodes")
    func missingNodes() {
        #expect(problems(parsing: "{}") == [#"cluster.json: missing required field "nodes"; list the Redis nodes and their slot ranges"#])
        #expect(problems(parsing: #"{"nodes": []}"#) == ["cluster.json: nodes: must list at least one node"])
        #expect(problems(parsing: #"{"nodes": {}}"#) == ["cluster.json: nodes: expected an array of nodes, got an object"])
        #expect(problems(parsing: "[]") == ["cluster.json: expected a JSON object at the top level, got an array"])
    }

    @Test("missing node fields are named; slot coverage is not guessed when slots are missing")
    func missingNodeFields() {
        let json = #"{"nodes": [{"name": "node-a"}, 7]}"#
        #expect(
            problems(parsing: json) == [
                #"cluster.json: nodes[0]: missing required field "host""#,
                #"cluster.json: nodes[0]: missing required field "port""#,
                #"cluster.json: nodes[0]: missing required field "slots""#,
                "cluster.json: nodes[1]: expected an object, got an integer",
            ])
    }

    @Test("every problem in a file is reported at once, in document order")
    func collectsAllProblems() {
        let json = """
            {
              "nodes": [
                {"name": "node-a", "host": "127.0.0.1", "port": 0, "slots": [[0, 5000]]},
                {"name": "node-a", "host": "127.0.0.1", "port": 7001, "slots": [[5461, 10922]]},
                {"name": "node-c", "hots": "127.0.0.1", "port": 7002, "slots": [[10923, 16383]]}
              ],
              "pool": {"connectionsPerNode": 0},
              "database": -2
            }
            """
        #expect(
            problems(parsing: json, source: "/etc/seckill/cluster.json") == [
                #"/etc/seckill/cluster.json: nodes[2]: unknown field "hots" (did you mean "host"?)"#,
                #"/etc/seckill/cluster.json: nodes[2]: missing required field "host""#,
                "/etc/seckill/cluster.json: nodes[0].port: 0 is out of range 1-65535",
                #"/etc/seckill/cluster.json: nodes[1].name: "node-a" is used by nodes[0] too"#,
                "/etc/seckill/cluster.json: slots 5001-5460 are not assigned to any node",
                "/etc/seckill/cluster.json: pool.connectionsPerNode: must be positive, got 0",
                "/etc/seckill/cluster.json: database: must be 0 or greater, got -2",
            ])
    }

    @Test("the error description lists one problem per line")
    func descriptionJoinsLines() {
        do {
            _ = try ClusterConfig.parse(#"{"nodes": [], "database": -1}"#, source: "c.json")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .invalid)
            #expect(error.description == "c.json: nodes: must list at least one node\nc.json: database: must be 0 or greater, got -1")
        }
    }
}

extension String {
    fileprivate func replacingPort(with literal: String) -> String {
        var copy = self
        if let range = copy.range(of: "\"port\": 0") {
            copy.replaceSubrange(range, with: "\"port\": \(literal)")
        }
        return copy
    }
}
