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
    private let state: Mutex<State>

    private struct State {
        var servers: [RedisServer]
        var killed: Set<Int> = []
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
        let servers = state.withLock { state in
            state.killed.formUnion(state.servers.map(\.port))
            return state.servers
        }
        for server in servers { server.stop(hard: true) }
    }

    /// Starts one cluster-enabled server that is certainly ours: a port whose bus port
    /// (port + 10000) exists, and whose `dir` is the server's own directory (another
    /// process's listener on a port would pass for a started server).
    private static func startServer(nodeTimeoutMs: Int) throws -> RedisServer {
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
    /// healthy, all agree on the owner of each of the 16384 slots (no slot open, every owner
    /// running) and every replica's link to its primary is up.
    ///
    /// - Throws: ``AdminError`` naming the last problem seen when `timeout` passes first.
    public func waitUntilStable(timeout: Duration = .seconds(30)) async throws {
        try await Self.blocking { try self.waitUntilStableNow(timeout: timeout.seconds) }
    }

    // MARK: Changing the cluster

    /// Opens the move of `slot`: `CLUSTER SETSLOT IMPORTING` on the target, then
    /// `MIGRATING` on the source. Until ``finishMigration(_:)`` the source answers `ASK`
    /// for missing keys and the target serves `ASKING` clients.
    public func beginMigration(slot: Int, from source: RedisServer, to target: RedisServer) async throws -> Migration {
        try await Self.blocking {
            let sourceID = try Self.myID(port: source.port)
            let targetID = try Self.myID(port: target.port)
            try Self.expectOK(port: target.port, ["CLUSTER", "SETSLOT", String(slot), "IMPORTING", sourceID])
            try Self.expectOK(port: source.port, ["CLUSTER", "SETSLOT", String(slot), "MIGRATING", targetID])
            return Migration(slot: slot, source: source, target: target, sourceID: sourceID, targetID: targetID)
        }
    }

    /// Moves keys of the slot to the target with `CLUSTER GETKEYSINSLOT` and `MIGRATE ... KEYS`,
    /// `batch` at a time, until the source holds none or `limit` keys were moved.
    ///
    /// - Returns: The keys moved.
    @discardableResult
    public func moveKeys(_ migration: Migration, batch: Int = 100, limit: Int? = nil) async throws -> Int {
        try await Self.blocking { try Self.moveKeysNow(migration, batch: batch, limit: limit) }
    }

    /// Moves the keys left, then gives the slot to the target: `CLUSTER SETSLOT NODE` on
    /// the target, the source and every other primary; waits until the cluster is stable.
    public func finishMigration(_ migration: Migration) async throws {
        try await Self.blocking {
            _ = try Self.moveKeysNow(migration, batch: 100, limit: nil)
            let others = try self.primariesNow(includingEmpty: true).filter { $0.port != migration.source.port && $0.port != migration.target.port }
            for server in [migration.target, migration.source] + others {
                try Self.expectOK(port: server.port, ["CLUSTER", "SETSLOT", String(migration.slot), "NODE", migration.targetID])
            }
            try self.waitUntilStableNow(timeout: 30)
        }
    }

    /// Moves `slot` from `source` to `target` in one go (begin, move keys, finish).
    public func migrate(slot: Int, from source: RedisServer, to target: RedisServer) async throws {
        let migration = try await beginMigration(slot: slot, from: source, to: target)
        try await finishMigration(migration)
    }

    /// `CLUSTER FAILOVER` on `replica`; waits until it serves its former primary's slots and
    /// the cluster is stable (the former primary a replica of it).
    public func failover(replica: RedisServer) async throws {
        try await Self.blocking {
            try Self.expectOK(port: replica.port, ["CLUSTER", "FAILOVER"])
            try self.poll(timeout: 30, what: "the failover to \(replica.port)") {
                guard let me = try Self.clusterNodes(port: replica.port).first(where: \.isMyself), me.isPrimary, !me.slots.isEmpty else {
                    return "\(replica.port) is not a primary with slots yet"
                }
                return self.stabilityProblem()
            }
        }
    }

    /// Kills `primary` with SIGKILL and waits until one of its replicas was promoted and the
    /// cluster is stable again without it.
    ///
    /// - Returns: The promoted replica.
    @discardableResult
    public func kill(primary: RedisServer) async throws -> RedisServer {
        try await Self.blocking {
            let observer = try self.runningNow().first { $0.port != primary.port }.orThrow("no other node to watch the failover from")
            let view = try Self.clusterNodes(port: observer.port)
            let victim = try view.first { $0.port == primary.port }.orThrow("\(primary.port) is not in the cluster")
            let slot = try victim.slots.first.orThrow("\(primary.port) serves no slot").lowerBound
            let replicaPorts = Set(view.filter { $0.primaryID == victim.id }.map(\.port))
            self.state.withLock { _ = $0.killed.insert(primary.port) }
            primary.stop(hard: true)
            var promoted: RedisServer?
            try self.poll(timeout: 30, what: "the promotion of a replica of \(primary.port)") {
                let owner = try Self.clusterNodes(port: observer.port).first { $0.isPrimary && $0.serves(slot) }
                guard let owner, replicaPorts.contains(owner.port) else { return "slot \(slot) is not served by a former replica yet" }
                promoted = self.server(port: owner.port)
                return self.stabilityProblem()
            }
            return try promoted.orThrow("no replica of \(primary.port) was promoted")
        }
    }

    /// Starts a new cluster-enabled server, introduces it with `CLUSTER MEET` and waits until
    /// every node knows it. It joins as a primary without slots; give it some with
    /// ``migrate(slot:from:to:)``.
    ///
    /// - Returns: The new server.
    public func addPrimary() async throws -> RedisServer {
        try await Self.blocking {
            let server = try Self.startServer(nodeTimeoutMs: self.nodeTimeoutMs)
            self.state.withLock { $0.servers.append(server) }
            let anchor = try self.runningNow().first { $0.port != server.port }.orThrow("no node to meet")
            try Self.expectOK(port: anchor.port, ["CLUSTER", "MEET", "127.0.0.1", String(server.port)])
            try self.waitUntilStableNow(timeout: 30)
            return server
        }
    }

    // MARK: Blocking implementation

    private func runningNow() -> [RedisServer] { running }

    private func primariesNow(includingEmpty: Bool = false) throws -> [RedisServer] {
        let live = runningNow()
        let observer = try live.first.orThrow("no node is running")
        let view = try Self.clusterNodes(port: observer.port)
        let ports = view.filter { $0.isPrimary && !$0.isFailing && (includingEmpty || !$0.slots.isEmpty) }.map(\.port)
        return live.filter { ports.contains($0.port) }.sorted { $0.port < $1.port }
    }

    private func replicasNow(of primary: RedisServer) throws -> [RedisServer] {
        let observer = try runningNow().first.orThrow("no node is running")
        let view = try Self.clusterNodes(port: observer.port)
        let node = try view.first { $0.port == primary.port }.orThrow("\(primary.port) is not in the cluster")
        let ports = view.filter { $0.primaryID == node.id && !$0.isFailing }.map(\.port)
        return runningNow().filter { ports.contains($0.port) }
    }

    private func primaryNow(ofSlot slot: Int) throws -> RedisServer {
        let observer = try runningNow().first.orThrow("no node is running")
        let owner = try Self.clusterNodes(port: observer.port).first { $0.isPrimary && $0.serves(slot) }.orThrow("no node serves slot \(slot)")
        return try server(port: owner.port).orThrow("slot \(slot) is served by \(owner.port), which this cluster did not start")
    }

    private static func moveKeysNow(_ migration: Migration, batch: Int, limit: Int?) throws -> Int {
        var moved = 0
        while limit.map({ moved < $0 }) ?? true {
            let count = min(batch, limit.map { $0 - moved } ?? batch)
            let reply = try AdminConnection.command(port: migration.source.port, ["CLUSTER", "GETKEYSINSLOT", String(migration.slot), String(count)])
            let keys = try reply.array.orThrow("GETKEYSINSLOT answered \(reply)").compactMap(\.string)
            if keys.isEmpty { break }
            let answer = try AdminConnection.command(
                port: migration.source.port,
                ["MIGRATE", "127.0.0.1", String(migration.target.port), "", "0", "10000", "KEYS"] + keys)
            // NOKEY: the keys expired between the two commands.
            guard answer.string == "OK" || answer.string == "NOKEY" else {
                throw AdminError("MIGRATE of slot \(migration.slot) from \(migration.source.port) to \(migration.target.port) answered \(answer)")
            }
            moved += keys.count
        }
        return moved
    }

    private func waitUntilStableNow(timeout: Double) throws {
        try poll(timeout: timeout, what: "a stable cluster") { self.stabilityProblem() }
    }

    /// Calls `problem` every 50 ms until it returns nil; throws with its last answer when
    /// `timeout` seconds pass first.
    private func poll(timeout: Double, what: String, _ problem: () throws -> String?) throws {
        let deadline = Date().addingTimeInterval(timeout)
        var last = "never checked"
        while true {
            do {
                guard let found = try problem() else { return }
                last = found
            } catch {
                last = "\(error)"
            }
            if Date() >= deadline { throw AdminError("waited \(Int(timeout)) s for \(what): \(last)") }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// What keeps the cluster from being stable, or nil when it is.
    private func stabilityProblem() -> String? {
        let live = runningNow()
        let livePorts = Set(live.map(\.port))
        var reference: (port: Int, owners: [String])?
        for server in live {
            do {
                let clusterInfo = try Self.info(port: server.port, ["CLUSTER", "INFO"])
                guard clusterInfo["cluster_state"] == "ok" else {
                    return "\(server.port) says cluster_state:\(clusterInfo["cluster_state"] ?? "?")"
                }
                let view = try Self.clusterNodes(port: server.port)
                for port in livePorts {
                    guard let node = view.first(where: { $0.port == port }) else { return "\(server.port) does not know \(port) yet" }
                    if node.isFailing || node.isJoining { return "\(server.port) sees \(port) as \(node.flags.sorted().joined(separator: ","))" }
                }
                if let open = view.first(where: \.hasOpenSlots) { return "\(server.port) sees an open slot on \(open.port)" }
                var owners: [String] = []
                var covered = 0
                for node in view where node.isPrimary && !node.slots.isEmpty {
                    guard livePorts.contains(node.port) else { return "\(server.port) says \(node.port), which is down, serves slots" }
                    for range in node.slots {
                        owners.append("\(range.lowerBound)-\(range.upperBound)@\(node.port)")
                        covered += range.count
                    }
                }
                guard covered == 16_384 else { return "\(server.port) sees \(covered) slots served" }
                owners.sort()
                if let reference, reference.owners != owners {
                    return "\(server.port) and \(reference.port) disagree on slot owners"
                }
                reference = (server.port, owners)
                if let me = view.first(where: \.isMyself), !me.isPrimary {
                    let replication = try Self.info(port: server.port, ["INFO", "replication"])
                    guard replication["master_link_status"] == "up" else { return "replica \(server.port) is not linked to its primary yet" }
                }
            } catch {
                return "\(server.port): \(error)"
            }
        }
        return nil
    }

    // MARK: Commands

    private static func expectOK(port: Int, _ arguments: [String]) throws {
        let reply = try AdminConnection.command(port: port, arguments)
        guard reply.string == "OK" else {
            throw AdminError("\(arguments.prefix(4).joined(separator: " ")) on \(port) answered \(reply)")
        }
    }

    private static func myID(port: Int) throws -> String {
        let reply = try AdminConnection.command(port: port, ["CLUSTER", "MYID"])
        return try reply.string.orThrow("CLUSTER MYID on \(port) answered \(reply)")
    }

    /// The `field:value` lines of an `INFO` or `CLUSTER INFO` reply.
    private static func info(port: Int, _ command: [String]) throws -> [String: String] {
        let reply = try AdminConnection.command(port: port, command)
        let text = try reply.string.orThrow("\(command.joined(separator: " ")) on \(port) answered \(reply)")
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return fields
    }

    /// Parses `CLUSTER NODES`: `id ip:port@bus[,hostname] flags primary ping pong epoch link slot...`.
    static func clusterNodes(port: Int) throws -> [Node] {
        let reply = try AdminConnection.command(port: port, ["CLUSTER", "NODES"])
        let text = try reply.string.orThrow("CLUSTER NODES on \(port) answered \(reply)")
        return try text.split(whereSeparator: \.isNewline).map { line in
            let parts = line.split(separator: " ")
            guard parts.count >= 8 else { throw AdminError("unexpected CLUSTER NODES line \(line)") }
            let address = parts[1].prefix { $0 != "@" && $0 != "," }
            guard let colon = address.lastIndex(of: ":"), let nodePort = Int(address[address.index(after: colon)...]) else {
                throw AdminError("unexpected address in CLUSTER NODES line \(line)")
            }
            var slots: [ClosedRange<Int>] = []
            var open = false
            for field in parts.dropFirst(8) {
                if field.hasPrefix("[") {
                    open = true
                } else if let dash = field.firstIndex(of: "-"), let low = Int(field[..<dash]), let high = Int(field[field.index(after: dash)...]) {
                    slots.append(low...high)
                } else if let single = Int(field) {
                    slots.append(single...single)
                }
            }
            return Node(
                id: String(parts[0]), port: nodePort, flags: Set(parts[2].split(separator: ",").map(String.init)),
                primaryID: parts[3] == "-" ? nil : String(parts[3]), slots: slots, hasOpenSlots: open)
        }
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
    fileprivate func orThrow(_ message: @autoclosure () -> String) throws -> Wrapped {
        guard let self else { throw AdminError(message()) }
        return self
    }
}

extension Duration {
    fileprivate var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
