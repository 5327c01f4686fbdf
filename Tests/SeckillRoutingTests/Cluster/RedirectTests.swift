import SeckillTransport
import Testing

@testable import SeckillRouting

/// The decision whether to follow a `MOVED`/`ASK`, without sockets: known node -> follow;
/// unknown -> refresh, then follow or refuse; static mode -> refuse.
@Suite("Redirect")
struct RedirectTests {
    static let primaryA = ClusterTopology.Node(id: "a", host: "10.0.0.1", port: 7000, isPrimary: true, health: "online")
    static let replicaA = ClusterTopology.Node(id: "ra", host: "10.0.0.2", port: 7003, isPrimary: false, health: "online")
    static let primaryB = ClusterTopology.Node(id: "b", host: "10.0.0.3", port: 7001, isPrimary: true, health: "online")
    static let topology = ClusterTopology(shards: [
        ClusterTopology.Shard(slots: [0...8191], primary: primaryA, replicas: [replicaA]),
        ClusterTopology.Shard(slots: [8192...16383], primary: primaryB, replicas: []),
    ])
    /// The slot map's nodes, named as a cluster-mode map names them.
    static let mapNodes = [primaryA.nodeConfig, primaryB.nodeConfig]

    static func redirect(_ message: String) throws -> Redirect {
        try #require(Redirect(message: message))
    }

    @Test("MOVED and ASK are read; the address splits at its last colon, IPv6 brackets or not")
    func parses() throws {
        let moved = try Self.redirect("MOVED 3999 127.0.0.1:6381")
        #expect(moved.kind == .moved && moved.slot == 3999 && moved.host == "127.0.0.1" && moved.port == 6381)
        #expect(moved.address == "127.0.0.1:6381")
        let ask = try Self.redirect("ASK 12182 [::1]:7002")
        #expect(ask.kind == .ask && ask.slot == 12182 && ask.host == "::1" && ask.port == 7002)
        #expect(ask.address == "[::1]:7002")
        #expect(try Self.redirect("MOVED 1 ::1:7002").host == "::1")
        #expect(try Self.redirect("MOVED 1 redis-1.internal:6379").host == "redis-1.internal")
    }

    @Test("other replies and malformed addresses are not redirects")
    func rejectsMalformed() {
        for message in [
            "ERR unknown command", "MOVED", "MOVED 12", "MOVED x 127.0.0.1:7000", "MOVED 12 127.0.0.1",
            "MOVED 12 127.0.0.1:0", "MOVED 12 127.0.0.1:65536", "MOVED 12 :7000", "TRYAGAIN 12 127.0.0.1:7000",
        ] {
            #expect(Redirect(message: message) == nil, "\(message)")
        }
    }

    @Test("cluster mode follows a primary of the topology, keeping the slot map's name, slots cleared")
    func followsListedPrimary() throws {
        var named = Self.primaryB.nodeConfig
        named.slots = [8192...16383]
        let decision = try Self.redirect("MOVED 9000 10.0.0.3:7001")
            .decision(mode: .cluster, topology: Self.topology, mapNodes: [Self.primaryA.nodeConfig, named], refreshed: false)
        #expect(decision == .follow(NodeConfig(name: "10.0.0.3:7001", host: "10.0.0.3", port: 7001, slots: [])))
    }

    @Test("cluster mode follows a replica the topology lists, though the slot map does not")
    func followsListedReplica() throws {
        let decision = try Self.redirect("ASK 10 10.0.0.2:7003")
            .decision(mode: .cluster, topology: Self.topology, mapNodes: Self.mapNodes, refreshed: false)
        #expect(decision == .follow(NodeConfig(name: "10.0.0.2:7003", host: "10.0.0.2", port: 7003, slots: [])))
        // Host names compare without case.
        let upper = ClusterTopology(shards: [
            ClusterTopology.Shard(
                slots: [0...16383],
                primary: ClusterTopology.Node(id: "h", host: "Redis-1.internal", port: 6379, isPrimary: true, health: "online"),
                replicas: [])
        ])
        #expect(
            try Self.redirect("MOVED 1 redis-1.INTERNAL:6379").decision(mode: .cluster, topology: upper, mapNodes: [], refreshed: false)
                == .follow(NodeConfig(name: "Redis-1.internal:6379", host: "Redis-1.internal", port: 6379, slots: [])))
    }

    @Test("an address the topology does not list: refresh first, then refuse if still unlisted")
    func unknownAddressRefreshesThenRefuses() throws {
        let redirect = try Self.redirect("MOVED 9000 10.9.9.9:7001")
        #expect(redirect.decision(mode: .cluster, topology: Self.topology, mapNodes: Self.mapNodes, refreshed: false) == .refreshTopology)
        #expect(redirect.decision(mode: .cluster, topology: Self.topology, mapNodes: Self.mapNodes, refreshed: true) == .refuse(.unlisted))
        // Same host, another port: not the same node.
        #expect(
            try Self.redirect("ASK 9000 10.0.0.3:7002").decision(
                mode: .cluster, topology: Self.topology, mapNodes: Self.mapNodes, refreshed: true)
                == .refuse(.unlisted))
        // No topology read yet.
        #expect(redirect.decision(mode: .cluster, topology: nil, mapNodes: Self.mapNodes, refreshed: false) == .refreshTopology)
        #expect(redirect.decision(mode: .cluster, topology: nil, mapNodes: Self.mapNodes, refreshed: true) == .refuse(.unlisted))
    }

    @Test("an address new before the refresh and listed after it is followed")
    func refreshedTopologyListsIt() throws {
        let redirect = try Self.redirect("MOVED 9000 10.0.0.4:7004")
        #expect(redirect.decision(mode: .cluster, topology: Self.topology, mapNodes: Self.mapNodes, refreshed: false) == .refreshTopology)
        let added = ClusterTopology.Node(id: "c", host: "10.0.0.4", port: 7004, isPrimary: true, health: "online")
        var refreshed = Self.topology
        refreshed.shards.append(ClusterTopology.Shard(slots: [], primary: added, replicas: []))
        #expect(
            redirect.decision(mode: .cluster, topology: refreshed, mapNodes: Self.mapNodes, refreshed: true) == .follow(added.nodeConfig))
    }

    @Test("the slot map alone does not make an address followable: only the topology does")
    func mapIsNotTheTopology() throws {
        let stale = NodeConfig(name: "10.0.0.9:7009", host: "10.0.0.9", port: 7009, slots: [])
        #expect(
            try Self.redirect("MOVED 1 10.0.0.9:7009").decision(
                mode: .cluster, topology: Self.topology, mapNodes: Self.mapNodes + [stale], refreshed: true)
                == .refuse(.unlisted))
    }

    @Test("static mode never follows, not even to a configured node")
    func staticModeRefuses() throws {
        let configured = [NodeConfig(name: "node-b", host: "10.0.0.3", port: 7001, slots: [8192...16383])]
        for message in ["MOVED 9000 10.0.0.3:7001", "ASK 9000 10.0.0.3:7001", "MOVED 9000 10.9.9.9:7001"] {
            let redirect = try Self.redirect(message)
            #expect(redirect.decision(mode: .static, topology: nil, mapNodes: configured, refreshed: false) == .refuse(.staticMode))
            #expect(
                redirect.decision(mode: .static, topology: Self.topology, mapNodes: configured, refreshed: true) == .refuse(.staticMode))
        }
    }

    @Test("refusals say what answered, where it pointed, and what to do")
    func refusalMessages() throws {
        let redirect = try Self.redirect("MOVED 12182 127.0.0.1:7001")
        let node = NodeConfig(name: "node-a", host: "127.0.0.1", port: 7000, slots: [0...16383])
        let staticError = redirect.error(.staticMode, from: node, source: "cluster.json", refresh: "not refreshed")
        #expect(staticError.node == "node-a (127.0.0.1:7000)")
        // No MOVED code: callers do not retry a call that would be refused again.
        #expect(staticError.serverCode == nil && staticError.delivery == .replied && !staticError.outcomeUnknown)
        #expect(
            staticError.message
                == #"node-a (127.0.0.1:7000) belongs to a Redis Cluster: it answered "MOVED 12182 127.0.0.1:7001", and a static config never follows redirects, so nothing was sent to 127.0.0.1:7001. Use cluster mode in cluster.json: set "mode": "cluster" and replace "nodes" with "seeds" naming one or more nodes of the cluster, e.g. [{"host": "127.0.0.1", "port": 7000}]"#
        )

        let clusterNode = NodeConfig(name: "127.0.0.1:7000", host: "127.0.0.1", port: 7000, slots: [])
        let unlisted = redirect.error(.unlisted, from: clusterNode, source: "cluster.json", refresh: "refreshed just now")
        #expect(unlisted.node == "127.0.0.1:7000")
        #expect(
            unlisted.message
                == #"127.0.0.1:7000 answered "MOVED 12182 127.0.0.1:7001", but 127.0.0.1:7001 is not a node of the cluster topology (refreshed just now): the redirect was not followed and nothing was sent to 127.0.0.1:7001; commands and credentials only go to nodes the cluster lists"#
        )
    }
}
