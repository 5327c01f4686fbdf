import SeckillRESP
import SeckillTransport

extension SlotMigration {
    /// The keys one hash tag holds in some slots of a node, e.g. one published item.
    public struct TaggedKeys: Sendable, Hashable {
        /// The bytes the slot is computed from: the hash tag's content (`phone` for
        /// `seckill:{phone}:orders`), or the whole key when it has no tag.
        public var tag: String
        /// Its slot.
        public var slot: HashSlot
        /// The keys, sorted.
        public var keys: [[UInt8]]
    }

    /// The keys matching `pattern` that `node` holds in `slots`, grouped by hash tag. Read with
    /// `SCAN` and the slot computed here, so it works on plain Redis nodes (static mode) and on
    /// cluster nodes alike.
    ///
    /// - Parameters:
    ///   - slots: The slots of interest.
    ///   - node: The node to scan.
    ///   - pattern: A `SCAN ... MATCH` pattern; `seckill:{*` finds the keys of published items.
    /// - Returns: One entry per hash tag, ordered by slot then tag.
    /// - Throws: ``RedisError`` when the node cannot be read.
    public func keys(inSlots slots: Set<HashSlot>, on node: NodeConfig, matching pattern: String = "seckill:{*") async throws
        -> [TaggedKeys]
    {
        guard !slots.isEmpty else { return [] }
        var found: [[UInt8]: TaggedKeys] = [:]
        var cursor = "0"
        repeat {
            let reply = try await client.execute([RESPCommand("SCAN", cursor, "MATCH", pattern, "COUNT", "1000")], on: node)[0]
            if let message = reply.errorMessage { throw RedisError.server(message, node: node.name) }
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let keys = parts[1].array else {
                throw RedisError(code: .protocolError, delivery: .replied, node: node.name, message: "SCAN answered \(reply)")
            }
            for key in keys.compactMap(\.bytes) {
                let slot = HashSlot(key: key)
                guard slots.contains(slot) else { continue }
                let range = key.withUnsafeBytes { HashSlot.hashedRange(of: $0) }
                let tag = Array(key[range])
                found[tag, default: TaggedKeys(tag: String(decoding: tag, as: UTF8.self), slot: slot, keys: [])].keys.append(key)
            }
            cursor = next
        } while cursor != "0"
        return found.values.map { entry in
            var entry = entry
            entry.keys.sort { $0.lexicographicallyPrecedes($1) }
            return entry
        }.sorted { ($0.slot, $0.tag) < ($1.slot, $1.tag) }
    }

    /// Moves keys from one node to another with `MIGRATE ... KEYS` (into the config's
    /// database), at most ``batchSize`` per call and the keys of one hash tag always in one
    /// call. Keys already gone are skipped (`NOKEY`); a key that exists on the target stops the
    /// move (`BUSYKEY`: nothing is overwritten).
    ///
    /// - Parameters:
    ///   - keys: The keys.
    ///   - source: Where they are.
    ///   - target: Where they go.
    /// - Returns: The number of keys sent.
    /// - Throws: ``SlotMigrationError`` (`failed`) naming the keys and the reply, or
    ///   ``RedisError`` for a transport failure.
    @discardableResult
    public func moveKeys(_ keys: [[UInt8]], from source: NodeConfig, to target: NodeConfig) async throws -> Int {
        var moved = 0
        for batch in Self.batches(keys, size: batchSize) {
            let answer = try await client.execute([migrateCommand(batch, to: target.host, port: target.port)], on: source)[0]
            guard answer.string == "OK" || answer.string == "NOKEY" else {
                let names = batch.prefix(3).map { String(decoding: $0, as: UTF8.self) }.joined(separator: ", ")
                throw SlotMigrationError(
                    .failed,
                    [
                        "moving \(batch.count) keys (\(names)\(batch.count > 3 ? ", ..." : "")) from \(source.name) to \(target.name) failed: \(answer.errorMessage ?? "\(answer)"); keys moved before stay moved"
                    ])
            }
            moved += batch.count
        }
        return moved
    }

    /// `MIGRATE host port "" db timeout [AUTH ...] KEYS key...`, authenticating as the client does.
    func migrateCommand(_ keys: [[UInt8]], to host: String, port: Int) -> RESPCommand {
        var arguments = [
            "MIGRATE", host, String(port), "", String(client.config.database), String(migrateTimeout.wholeMilliseconds),
        ]
        let options = client.connectionOptions
        if let password = options.password {
            arguments += options.username.map { ["AUTH2", $0, password] } ?? ["AUTH", password]
        }
        arguments.append("KEYS")
        return RESPCommand(arguments: arguments.map { Array($0.utf8) } + keys)
    }
}
