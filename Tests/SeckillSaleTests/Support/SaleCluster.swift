import Foundation
import SeckillRESP
import SeckillRouting
import SeckillSale
import SeckillTestSupport

/// Real redis-server nodes sharing the 16384 slots evenly, a coordinator routing over them,
/// and a second, direct client the tests read Redis through.
///
/// With `proxied`, the coordinator reaches every node through a ``FaultProxy`` so a test can
/// lose requests and replies on the way; the inspecting client always talks to the servers
/// directly. Item ids carry a UUID prefix, so tests never see each other's keys.
final class SaleCluster: Sendable {
    let servers: [RedisServer]
    let proxies: [FaultProxy]
    let client: ClusterClient
    let coordinator: SaleCoordinator
    let inspector: ClusterClient
    let prefix: String

    /// Starts the servers (and proxies) on a thread of their own: starting a server waits for
    /// it to answer, which must not hold one of the few threads every test's tasks share.
    static func start(
        nodes: Int = 1,
        proxied: Bool = false,
        options: SaleOptions = SaleOptions(),
        pool: PoolSettings = PoolSettings(reconnectMin: .milliseconds(10), reconnectMax: .milliseconds(200)),
        timeouts: TimeoutSettings = TimeoutSettings(connect: .seconds(2), command: .seconds(2))
    ) async throws -> SaleCluster {
        await TestGate.shared.enter()
        do {
            return try await offThePool {
                try SaleCluster(nodes: nodes, proxied: proxied, options: options, pool: pool, timeouts: timeouts)
            }
        } catch {
            TestGate.shared.leave()
            throw error
        }
    }

    private init(
        nodes: Int = 1,
        proxied: Bool = false,
        options: SaleOptions = SaleOptions(),
        pool: PoolSettings = PoolSettings(reconnectMin: .milliseconds(10), reconnectMax: .milliseconds(200)),
        timeouts: TimeoutSettings = TimeoutSettings(connect: .seconds(2), command: .seconds(2))
    ) throws {
        let servers = try (0..<nodes).map { _ in try RedisServer.verified() }
        let proxies = try proxied ? servers.map { try FaultProxy(upstreamPort: $0.port) } : []
        let ranges = SlotAllocator.evenSlotRanges(count: nodes)
        func config(ports: [Int]) throws -> ClusterConfig {
            let nodeConfigs = ports.enumerated().map { index, port in
                NodeConfig(name: ClusterConfig.nodeName(at: index), host: "127.0.0.1", port: port, slots: [ranges[index]])
            }
            return try ClusterConfig(nodes: nodeConfigs, pool: pool, timeouts: timeouts, auth: nil, database: 0, source: "test")
                .validated()
        }
        self.servers = servers
        self.proxies = proxies
        self.client = try ClusterClient(config: try config(ports: proxied ? proxies.map(\.port) : servers.map(\.port)), environment: [:])
        self.inspector = try ClusterClient(config: try config(ports: servers.map(\.port)), environment: [:])
        self.coordinator = SaleCoordinator(client: client, options: options)
        self.prefix = "t-" + UUID().uuidString.prefix(8).lowercased()
    }

    deinit {
        client.close()
        inspector.close()
        for proxy in proxies { proxy.stop() }
        for server in servers { server.stop() }
        TestGate.shared.leave()
    }

    // MARK: Items

    /// A fresh item id unique to this cluster.
    func item(_ name: String = "item") -> String { "\(prefix)-\(name)" }

    /// The index of the node owning `item`.
    func nodeIndex(of item: String) -> Int {
        client.router.map.nodeIndex(forKey: ItemKeys(item: item).meta)
    }

    /// The server owning `item`.
    func server(owning item: String) -> RedisServer { servers[nodeIndex(of: item)] }

    /// The proxy in front of the server owning `item` (proxied clusters only).
    func proxy(owning item: String) -> FaultProxy { proxies[nodeIndex(of: item)] }

    /// `perNode` fresh item ids owned by each node, in node order.
    func items(perNode: Int, named name: String = "item") -> [[String]] {
        var found = [[String]](repeating: [], count: servers.count)
        var index = 0
        while found.contains(where: { $0.count < perNode }) {
            let candidate = item("\(name)-\(index)")
            let node = nodeIndex(of: candidate)
            if found[node].count < perNode { found[node].append(candidate) }
            index += 1
        }
        return found
    }

    // MARK: Reading Redis directly

    /// Runs one command on the node owning `key`, bypassing any proxy.
    @discardableResult
    func redis(_ name: String, _ arguments: String..., key: String) async throws -> RESPValue {
        var command = RESPCommand(name)
        for argument in arguments { command.append(argument) }
        return try await inspector.send(command, key: key)
    }

    /// An integer field of the item hash (`total`, `sold`, `limit`, `epoch`, ...).
    func meta(_ item: String, _ field: String) async throws -> Int? {
        let keys = ItemKeys(item: item)
        return try await redis("HGET", keys.meta, field, key: keys.meta).int.map(Int.init)
    }

    /// Units `user` holds, 0 when absent from the buyers hash.
    func held(_ item: String, by user: String) async throws -> Int {
        let keys = ItemKeys(item: item)
        return Int(try await redis("HGET", keys.buyers, user, key: keys.meta).int ?? 0)
    }

    /// The buyers hash as a dictionary.
    func buyers(_ item: String) async throws -> [String: Int] {
        let keys = ItemKeys(item: item)
        let flat = try await redis("HGETALL", keys.buyers, key: keys.meta).array ?? []
        var result: [String: Int] = [:]
        for pair in stride(from: 0, to: flat.count - 1, by: 2) {
            result[flat[pair].string ?? ""] = Int(flat[pair + 1].int ?? 0)
        }
        return result
    }

    /// Every entry of the item's orders stream, oldest first.
    func orders(_ item: String) async throws -> [StreamEntry] {
        let keys = ItemKeys(item: item)
        let entries = try await redis("XRANGE", keys.orders, "-", "+", key: keys.meta).array ?? []
        return entries.compactMap { entry in
            guard let parts = entry.array, parts.count == 2, let id = parts[0].string, let flat = parts[1].array else { return nil }
            var fields: [String: String] = [:]
            for pair in stride(from: 0, to: flat.count - 1, by: 2) { fields[flat[pair].string ?? ""] = flat[pair + 1].string }
            return StreamEntry(id: id, fields: fields)
        }
    }

    /// Whether `key` exists.
    func exists(_ key: String) async throws -> Bool {
        try await redis("EXISTS", key, key: key).int == 1
    }

    /// Runs `redis-cli ARGS...` against node `index` without blocking a shared thread.
    @discardableResult
    func cli(node index: Int, _ arguments: String...) async throws -> String {
        let port = servers[index].port
        return try await offThePool { try RedisServer.run("/usr/bin/redis-cli", ["-p", String(port)] + arguments) }
    }

    /// Runs `redis-cli ARGS...` against the node owning `item`.
    @discardableResult
    func cli(owning item: String, _ arguments: String...) async throws -> String {
        let port = server(owning: item).port
        return try await offThePool { try RedisServer.run("/usr/bin/redis-cli", ["-p", String(port)] + arguments) }
    }

    /// How many times the node owning `key` answered NOSCRIPT since it started.
    func noscriptErrors(onNodeOf key: String) async throws -> Int {
        let info = try await redis("INFO", "errorstats", key: key).string ?? ""
        guard let line = info.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("errorstat_NOSCRIPT:") }),
            let count = line.split(separator: "=").last.flatMap({ Int($0) })
        else { return 0 }
        return count
    }
}

/// One entry of an orders stream.
struct StreamEntry: Sendable, Hashable {
    var id: String
    var fields: [String: String]

    var type: String? { fields["type"] }
}
