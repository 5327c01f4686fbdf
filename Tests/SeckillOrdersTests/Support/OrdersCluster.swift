import Foundation
import SeckillOrders
import SeckillRESP
import SeckillRouting
import SeckillSale
import SeckillTestSupport

/// Runs blocking work (starting processes) on a thread of its own.
func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// A failure in a test's own setup.
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A private directory for a test's database files, removed when the value goes away.
final class TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("seckill-orders-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }
}

/// Real redis-server nodes sharing the slots evenly, a client and a coordinator over them.
/// Item ids carry a UUID prefix.
final class OrdersCluster: Sendable {
    let servers: [RedisServer]
    let client: ClusterClient
    let coordinator: SaleCoordinator
    let prefix: String
    let directory: TemporaryDirectory

    static func start(nodes: Int = 2, ports: [Int]? = nil) async throws -> OrdersCluster {
        let servers = try await offThePool { try (0..<nodes).map { _ in try RedisServer() } }
        return try OrdersCluster(servers: servers, ports: ports ?? servers.map(\.port))
    }

    init(servers: [RedisServer], ports: [Int]) throws {
        let ranges = SlotAllocator.evenSlotRanges(count: ports.count)
        let nodes = ports.enumerated().map { index, port in
            NodeConfig(name: ClusterConfig.nodeName(at: index), host: "127.0.0.1", port: port, slots: [ranges[index]])
        }
        let config = try ClusterConfig(
            nodes: nodes, pool: PoolSettings(reconnectMin: .milliseconds(10), reconnectMax: .milliseconds(200)),
            timeouts: TimeoutSettings(connect: .seconds(2), command: .seconds(2)), auth: nil, database: 0, source: "test"
        ).validated()
        self.servers = servers
        client = try ClusterClient(config: config, environment: [:])
        coordinator = SaleCoordinator(client: client, options: SaleOptions())
        prefix = "o-" + UUID().uuidString.prefix(8).lowercased()
        directory = try TemporaryDirectory()
    }

    deinit {
        client.close()
        for server in servers { server.stop() }
    }

    func item(_ name: String) -> String { "\(prefix)-\(name)" }

    /// A new SQLite database in the test's directory.
    func database(_ name: String = "orders.db") throws -> SQLiteOrderSink { try SQLiteOrderSink(path: directory.file(name)) }

    /// A consumer over `sink` with test-friendly settings.
    func consumer(_ sink: any OrderSink, adjust: (inout OrderConsumerOptions) -> Void = { _ in }) throws -> OrderConsumer {
        var options = OrderConsumerOptions()
        options.discoveryInterval = .zero
        options.pollInterval = .milliseconds(20)
        adjust(&options)
        return try OrderConsumer(client: client, sink: sink, options: options)
    }

    /// Runs one command on the node owning `key`.
    @discardableResult
    func redis(_ arguments: String..., key: String) async throws -> RESPValue {
        var command = RESPCommand(arguments[0])
        for argument in arguments.dropFirst() { command.append(argument) }
        return try await client.send(command, key: key)
    }

    /// Buys `quantity` for `user`; returns the order id.
    @discardableResult
    func buy(_ item: String, _ user: String, quantity: Int = 1) async throws -> String {
        guard case .purchased(let order, _) = try await coordinator.purchase(item, user: user, quantity: quantity) else {
            throw TestFailure("purchase of \(item) by \(user) did not buy")
        }
        return order
    }
}
