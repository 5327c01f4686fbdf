extension ClusterConfig {
    /// Builds a config that spreads the slots evenly over the given nodes, the way
    /// `redis-cli --cluster create` would (see ``SlotAllocator/evenSlotRanges(count:)``).
    /// Used by `seckill config init --nodes H:P,H:P`; write it out with ``render()``.
    ///
    /// - Parameters:
    ///   - addresses: The nodes, in slot order; named `node-a`, `node-b`, ... (see ``nodeName(at:)``).
    ///   - pool: Pool settings.
    ///   - timeouts: Timeouts.
    ///   - auth: Credentials, or `nil`.
    ///   - database: The database number.
    ///   - source: A name for messages, normally the path the config will be written to.
    /// - Returns: The validated config.
    /// - Throws: ``ConfigError`` when there are no addresses, more than 16384, repeated
    ///   addresses, or any other validation problem.
    public static func evenlySharded(
        across addresses: [NodeAddress],
        pool: PoolSettings = .defaults,
        timeouts: TimeoutSettings = .defaults,
        auth: AuthSettings? = nil,
        database: Int = 0,
        source: String = "cluster.json"
    ) throws(ConfigError) -> ClusterConfig {
        guard (1...HashSlot.count).contains(addresses.count) else {
            throw ConfigError(.invalidArgument, "\(source): need between 1 and 16384 node addresses, got \(addresses.count)")
        }
        let ranges = SlotAllocator.evenSlotRanges(count: addresses.count)
        let nodes = addresses.enumerated().map { index, address in
            NodeConfig(name: nodeName(at: index), host: address.host, port: address.port, slots: [ranges[index]])
        }
        return try ClusterConfig(nodes: nodes, pool: pool, timeouts: timeouts, auth: auth, database: database, source: source).validated()
    }

    /// The generated name of the node at `index`: `node-a` ... `node-z`, `node-aa`, `node-ab`, ...
    ///
    /// - Parameter index: The node's position, from 0.
    /// - Returns: The name.
    public static func nodeName(at index: Int) -> String {
        precondition(index >= 0, "node index must not be negative")
        var letters: [Character] = []
        var remaining = index + 1
        while remaining > 0 {
            remaining -= 1
            letters.append(Character(Unicode.Scalar(UInt8(ascii: "a") + UInt8(remaining % 26))))
            remaining /= 26
        }
        return "node-" + String(letters.reversed())
    }
}
