public import SeckillRESP
import SeckillTransport

extension ClusterClient {
    /// Sends `commands` back to back on one connection of the node serving `slot`, and
    /// follows the cluster's answers to the first of them:
    /// - `MOVED slot host:port`: the slot has a new owner: the map is updated, the commands
    ///   resent there, and a topology refresh starts in the background;
    /// - `ASK slot host:port`: the slot is migrating: `ASKING` plus the commands go to that
    ///   node once, and the map is left alone;
    /// - `TRYAGAIN`, `CLUSTERDOWN`, `LOADING`, `MASTERDOWN`, `READONLY`: the command did not
    ///   run: resent after a backoff of 1 ms doubling to 100 ms, within `deadline`;
    /// - a node that cannot be reached (nothing sent): in cluster mode a refresh starts and
    ///   the commands are resent within `deadline`, so calls follow a failover.
    /// At most `topology.maxRedirects` redirects are followed in a row (a backoff for
    /// `TRYAGAIN` and the like starts the count again). Other error replies are
    /// returned as values; failures with an unknown outcome are thrown, never resent.
    ///
    /// - Returns: The replies, in order.
    /// - Throws: ``RedisError``.
    public func execute(_ commands: [RESPCommand], slot: HashSlot, deadline: ContinuousClock.Instant) async throws -> [RESPValue] {
        var redirects = 0
        var asking: NodeConfig?
        var backoff = Duration.milliseconds(1)
        while true {
            let node = asking ?? router.node(for: slot)
            let pool = pool(for: node)
            let replies: [RESPValue]
            do {
                if asking != nil {
                    replies = Array(try await pool.pipeline([RESPCommand("ASKING")] + commands).dropFirst())
                } else if commands.count == 1 {
                    // The common case: one command, no batch bookkeeping.
                    replies = [try await pool.request(commands[0])]
                } else {
                    replies = try await pool.pipeline(commands)
                }
            } catch let error as RedisError where error.delivery == .notSent && error.code != .overloaded && error.code != .poolClosed {
                asking = nil
                if config.mode == .cluster { requestRefresh() }
                guard config.mode == .cluster, ContinuousClock.now + backoff < deadline else { throw error }
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .milliseconds(100))
                continue
            }
            asking = nil
            guard let message = replies.first?.errorMessage else { return replies }
            let words = message.split(separator: " ")
            switch words.first {
            case "MOVED", "ASK":
                guard words.count >= 3, let target = Self.node(from: String(words[2]), known: router.map.nodes) else { return replies }
                redirects += 1
                guard redirects <= config.topology.maxRedirects else {
                    throw RedisError(
                        code: .serverError, delivery: .replied, node: node.name, serverCode: String(words[0]),
                        message: "gave up after \(config.topology.maxRedirects) redirects for slot \(slot.rawValue): \(message)")
                }
                if words[0] == "MOVED" {
                    router.reassign(slot, to: target)
                    requestRefresh()
                } else {
                    asking = target
                }
            case "TRYAGAIN", "CLUSTERDOWN", "LOADING", "MASTERDOWN", "READONLY":
                if words[0] != "TRYAGAIN" { requestRefresh() }
                guard ContinuousClock.now + backoff < deadline else { return replies }
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .milliseconds(100))
                // The redirect limit stops loops without a pause. A multi-key command on a
                // migrating slot goes ASK (source) -> TRYAGAIN (target) until the move ends;
                // counting those ASKs would give up after a few milliseconds, not at the deadline.
                redirects = 0
            default:
                return replies
            }
        }
    }

    /// The node named by a redirect's `host:port` (split at the last colon for IPv6); a
    /// known node with that address keeps its name.
    static func node(from address: String, known: [NodeConfig]) -> NodeConfig? {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else { return nil }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if let existing = known.first(where: { $0.host == host && $0.port == port }) {
            var node = existing
            node.slots = []
            return node
        }
        return ClusterTopology.Node(id: "", host: host, port: port, isPrimary: true, health: "online").nodeConfig
    }
}
