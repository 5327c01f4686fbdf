internal import Foundation
import SeckillRouting
import SeckillSale

/// Shared by the commands that read cluster.json.
enum ConfigLoading {
    static let option = ("--config", "FILE: the cluster config (default ./cluster.json)")

    /// Loads and validates the config named by `--config`, or ./cluster.json: the routing
    /// layer's part, whose default connections per node suit the `durability` section. Both
    /// layers are checked, so every command rejects a bad `sale` or `durability` section.
    /// Several problems are shortened to the first and a count, to keep the error on one line.
    static func load(_ arguments: Arguments) throws(CLIError) -> ClusterConfig {
        try loadSale(arguments).cluster
    }

    /// Loads and validates the config named by `--config`, or ./cluster.json, both layers.
    static func loadSale(_ arguments: Arguments) throws(CLIError) -> SaleConfig {
        let path = arguments.value("--config") ?? "cluster.json"
        do {
            return try SaleConfig.load(path: path)
        } catch {
            throw CLIError(oneLine(error))
        }
    }

    static func oneLine(_ error: ConfigError) -> String {
        guard let first = error.problems.first else { return error.description }
        let more = error.problems.count - 1
        return more == 0 ? first : "\(first) (and \(more) more problem\(more == 1 ? "" : "s"); run seckill config check)"
    }

    static var environment: [String: String] { ProcessInfo.processInfo.environment }
}

extension ConfigLoading {
    /// A coordinator over the nodes of the config named by `--config`; in cluster mode the
    /// topology is discovered from the seeds first. `--allow-eviction-policy`, where a command
    /// takes it, lets the coordinator run on nodes that may evict.
    static func coordinator(_ arguments: Arguments, adjust: (inout SaleOptions) -> Void = { _ in }) async throws(CLIError)
        -> SaleCoordinator
    {
        let config = try loadSale(arguments)
        var options = SaleOptions(config: config)
        if arguments.flag("--allow-eviction-policy") { options.allowEvictionPolicy = true }
        adjust(&options)
        return SaleCoordinator(client: try await client(config.cluster), options: options)
    }

    /// The slot map in force: the config's in static mode, the cluster's (read from the
    /// seeds) in cluster mode.
    static func slotMap(_ config: ClusterConfig) async throws(CLIError) -> SlotMap {
        guard config.mode == .cluster else { return SlotMap(config: config) }
        return try await client(config).router.map
    }

    /// A client for `config` (topology discovered in cluster mode).
    static func client(_ config: ClusterConfig) async throws(CLIError) -> ClusterClient {
        do {
            return try await ClusterClient.connect(config: config, environment: environment, logger: CLILogging.logger)
        } catch let error as ConfigError {
            throw CLIError(oneLine(error))
        } catch {
            throw CLIError("\(config.source): cannot read the cluster topology from the seeds: \(error)")
        }
    }

    /// Shuts the client of `coordinator` down once a command is done with it: calls still in
    /// flight finish (a sale's last purchases are not cut off), then every connection closes.
    static func finish(_ coordinator: SaleCoordinator) async {
        await coordinator.client.shutdown()
    }

    /// A `SaleError` as a command failure.
    static func failure(_ error: SaleError) -> CLIError {
        CLIError(error.message, status: error.code == .invalidInput ? 2 : 1)
    }
}
