import Foundation
import Synchronization

/// A real Redis Cluster on loopback: `primaries` x (1 + `replicasPerPrimary`) cluster-enabled
/// redis-server processes joined with `redis-cli --cluster create`, and the operations a test
/// needs to change it under load: moving a slot step by step, a manual failover, killing a
/// primary, adding a node.
///
/// Every operation waits until the cluster is stable again (``waitUntilStable(timeout:)``)
/// by polling with a timeout, never by sleeping a fixed time. The blocking work (starting
/// processes, polling nodes) runs on threads of its own so the tasks of the test keep the
/// few threads of the shared pool. Every server is stopped when the cluster is released.
public final class RedisCluster: Sendable {
    /// One node as `CLUSTER NODES` describes it.
    public struct Node: Sendable, Hashable {
        /// The node id (40 hex characters).
        public var id: String
        /// Its client port on 127.0.0.1.
        public var port: Int
        /// `myself`, `master`, `slave`, `fail?`, `fail`, `handshake`, `noaddr`, ...
        public var flags: Set<String>
        /// The id of its primary, for a replica.
        public var primaryID: String?
        /// The slot ranges it serves (open slots not included).
        public var slots: [ClosedRange<Int>]
        /// True when the line lists a slot being imported or migrated.
        public var hasOpenSlots: Bool

        /// True for a primary.
        public var isPrimary: Bool { flags.contains("master") }
        /// True when the node is flagged failing or failed.
        public var isFailing: Bool { flags.contains("fail") || flags.contains("fail?") }
        /// True for the node that answered.
        public var isMyself: Bool { flags.contains("myself") }
        /// True while the node has not completed the handshake.
        public var isJoining: Bool { flags.contains("handshake") || flags.contains("noaddr") }

        /// True when the node serves `slot`.
        public func serves(_ slot: Int) -> Bool { slots.contains { $0.contains(slot) } }
    }

    /// A slot on its way from one primary to another (see ``beginMigration(slot:from:to:)``).
    public struct Migration: Sendable {
        /// The slot.
        public let slot: Int
        /// The primary giving the slot away.
        public let source: RedisServer
        /// The primary receiving it.
        public let target: RedisServer
        /// The source's node id.
        public let sourceID: String
        /// The target's node id.
        public let targetID: String
    }

    /// `--cluster-node-timeout` of every node, in milliseconds.
    public let nodeTimeoutMs: Int
    let state: Mutex<State>

    struct State {
        var servers: [RedisServer]
        var killed: Set<Int> = []
        /// Sockets holding the ports of killed nodes (see ``kill(primary:)``).
        var placeholders: [Int32] = []
    }

    // MARK: Starting and stopping

    /// Starts the nodes, creates the cluster and waits until it is stable.
    ///
    /// - Parameters:
    ///   - primaries: Primaries, at least 3.
    ///   - replicasPerPrimary: Replicas of each primary.
    ///   - nodeTimeoutMs: `cluster-node-timeout`; short, so an automatic failover takes a
    ///     couple of seconds.
    /// - Throws: ``AdminError`` or ``RedisServer/StartError`` when the cluster cannot be made.
    public static func start(primaries: Int = 3, replicasPerPrimary: Int = 1, nodeTimeoutMs: Int = 1000) async throws -> RedisCluster {
        try await blocking {
            let cluster = RedisCluster(nodeTimeoutMs: nodeTimeoutMs)
            for _ in 0..<(primaries * (1 + replicasPerPrimary)) {
                let server = try startServer(nodeTimeoutMs: nodeTimeoutMs)
                cluster.state.withLock { $0.servers.append(server) }
            }
            let addresses = cluster.servers.map { "127.0.0.1:\($0.port)" }
            try RedisServer.run(
                "/usr/bin/redis-cli",
                ["--cluster", "create"] + addresses + ["--cluster-replicas", String(replicasPerPrimary), "--cluster-yes"])
            try cluster.waitUntilStableNow(timeout: 60)
            try cluster.waitForReplicationNow()
            return cluster
        }
    }

    private init(nodeTimeoutMs: Int) {
        self.nodeTimeoutMs = nodeTimeoutMs
        self.state = Mutex(State(servers: []))
    }

    deinit { stop() }

    /// Stops every node (SIGKILL: nothing is persisted).
    public func stop() {
        let (servers, placeholders) = state.withLock { state in
            state.killed.formUnion(state.servers.map(\.port))
            defer { state.placeholders = [] }
            return (state.servers, state.placeholders)
        }
        for server in servers { server.stop(hard: true) }
        for fd in placeholders { close(fd) }
    }

    /// Binds `port` on 127.0.0.1 without listening, so no other process on this machine can
    /// start a server there while the cluster and its clients still know the address: a
    /// connection is refused, as it is by a dead node. (No SO_REUSEADDR: Linux then refuses
    /// every other bind of the port.)
    static func placeholder(port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        if bound { return fd }
        close(fd)
        return nil
    }

    /// Starts one cluster-enabled server that is certainly ours: a port whose bus port
    /// (port + 10000) exists, and whose `dir` is the server's own directory (another
    /// process's listener on a port would pass for a started server).
    static func startServer(nodeTimeoutMs: Int) throws -> RedisServer {
        var last = "no attempt"
        for _ in 0..<20 {
            do {
                let server = try RedisServer(arguments: [
                    "--cluster-enabled", "yes", "--cluster-node-timeout", String(nodeTimeoutMs),
                    // Replicas sync at once instead of waiting 5 s for more replicas to join.
                    "--repl-diskless-sync-delay", "0",
                ])
                guard server.port <= 55_535 else {
                    server.stop(hard: true)
                    continue
                }
                let dir = try? AdminConnection.command(port: server.port, ["CONFIG", "GET", "dir"]).array?.last?.string
                if let dir, dir.contains(server.directory.lastPathComponent) { return server }
                last = "port \(server.port) answered dir \(dir ?? "nothing")"
                server.stop(hard: true)
            } catch {
                last = "\(error)"
            }
        }
        throw AdminError("could not start a cluster-enabled redis-server of our own: \(last)")
    }

    // MARK: Servers

    /// Every server started, killed ones included, in start order.
    public var servers: [RedisServer] { state.withLock { $0.servers } }

    /// The servers that were not killed.
    public var running: [RedisServer] { state.withLock { state in state.servers.filter { !state.killed.contains($0.port) } } }

    /// The ports of the running servers, to seed a client with.
    public var ports: [Int] { running.map(\.port) }

    /// The server listening on `port`.
    public func server(port: Int) -> RedisServer? { servers.first { $0.port == port } }

    // MARK: Reading the cluster

    /// Sends one command to `server` and returns its reply (error replies as values).
    public func command(_ server: RedisServer, _ arguments: String...) async throws -> AdminReply {
        let port = server.port
        return try await Self.blocking { try AdminConnection.command(port: port, arguments) }
    }

    /// Sends one command to `server` and returns its reply (error replies as values).
    public func command(_ server: RedisServer, arguments: [String]) async throws -> AdminReply {
        let port = server.port
        return try await Self.blocking { try AdminConnection.command(port: port, arguments) }
    }

    /// The cluster as `server` sees it.
    public func nodes(seenBy server: RedisServer) async throws -> [Node] {
        let port = server.port
        return try await Self.blocking { try Self.clusterNodes(port: port) }
    }

    /// The node id of `server`.
    public func nodeID(of server: RedisServer) async throws -> String {
        let port = server.port
        return try await Self.blocking { try Self.myID(port: port) }
    }

    /// The running primaries that serve slots, as the first running node sees them, in port order.
    public func primaries() async throws -> [RedisServer] {
        try await Self.blocking { try self.primariesNow() }
    }

    /// The running replicas of `primary`.
    public func replicas(of primary: RedisServer) async throws -> [RedisServer] {
        try await Self.blocking { try self.replicasNow(of: primary) }
    }

    /// The primary serving `slot`, as the first running node sees it.
    public func primary(ofSlot slot: Int) async throws -> RedisServer {
        try await Self.blocking { try self.primaryNow(ofSlot: slot) }
    }

    /// Waits until every running node says `cluster_state:ok`, every one sees every other as
    /// healthy and in the role it has, all agree on the owner of each of the 16384 slots (no
    /// slot open, every owner running) and every replica is linked to its primary and online.
    ///
    /// - Throws: ``AdminError`` naming the last problem seen when `timeout` passes first.
    public func waitUntilStable(timeout: Duration = .seconds(30)) async throws {
        try await Self.blocking { try self.waitUntilStableNow(timeout: timeout.seconds) }
    }

    /// Runs blocking work on a thread of its own and waits for it without holding a thread
    /// of the shared pool.
    public static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }
}

extension Optional {
    func orThrow(_ message: @autoclosure () -> String) throws -> Wrapped {
        guard let self else { throw AdminError(message()) }
        return self
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
