import SeckillTransport

/// A `MOVED` or `ASK` error reply, and the decision whether to follow it.
///
/// Following a redirect opens an authenticated pool to the address it names, so the
/// address must be one the cluster itself listed: a static config never follows one (its
/// nodes belong to a Redis Cluster the config does not describe), and a cluster-mode
/// client follows one only to a node of the last topology read (`CLUSTER SHARDS` or
/// `CLUSTER SLOTS`), after one refresh when the address is new to it.
struct Redirect: Sendable, Hashable {
    /// `MOVED` (the slot has a new owner) or `ASK` (the slot is migrating).
    enum Kind: String, Sendable, Hashable {
        case moved = "MOVED"
        case ask = "ASK"
    }

    /// What to do with a redirect.
    enum Decision: Sendable, Hashable {
        /// Send the commands to this node (a node of the topology).
        case follow(NodeConfig)
        /// The address is not in the topology: refresh it, then decide again.
        case refreshTopology
        /// Do not follow it: fail the call.
        case refuse(Refusal)
    }

    /// Why a redirect is not followed.
    enum Refusal: Sendable, Hashable {
        /// The config is static: its node belongs to a Redis Cluster and the config should
        /// use cluster mode.
        case staticMode
        /// The topology, refreshed, does not list the address.
        case unlisted
    }

    /// MOVED or ASK.
    var kind: Kind
    /// The slot the reply is about.
    var slot: Int
    /// The host named, without IPv6 brackets.
    var host: String
    /// The port named.
    var port: Int
    /// The error reply as received.
    var message: String

    /// `host:port` as slot maps name nodes (brackets around IPv6).
    var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Reads `MOVED 3999 127.0.0.1:6381` or `ASK 3999 [::1]:6381`; the address is split at
    /// its last colon (IPv6).
    ///
    /// - Parameter message: An error reply's text.
    /// - Returns: nil for other replies and for a malformed slot or address.
    init?(message: String) {
        let words = message.split(separator: " ")
        guard words.count >= 3, let kind = Kind(rawValue: String(words[0])), let slot = Int(words[1]) else { return nil }
        let target = words[2]
        guard let colon = target.lastIndex(of: ":"), let port = Int(target[target.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = String(target[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.kind = kind
        self.slot = slot
        self.host = host
        self.port = port
        self.message = message
    }

    /// Decides whether to follow the redirect. Pure: the caller refreshes the topology when
    /// asked to and calls again with `refreshed` true.
    ///
    /// - Parameters:
    ///   - mode: The config's mode; static mode never follows.
    ///   - topology: The last topology read, nil when none was (static mode).
    ///   - mapNodes: The slot map's nodes: a listed node keeps the name it has there.
    ///   - refreshed: Whether the topology was refreshed after the redirect arrived.
    /// - Returns: Follow a listed node, refresh first, or refuse.
    func decision(mode: ClusterMode, topology: ClusterTopology?, mapNodes: [NodeConfig], refreshed: Bool) -> Decision {
        guard mode == .cluster else { return .refuse(.staticMode) }
        let listed = topology?.allNodes.first { $0.port == port && Self.sameHost($0.host, host) }
        guard let listed else { return refreshed ? .refuse(.unlisted) : .refreshTopology }
        if var known = mapNodes.first(where: { $0.port == port && Self.sameHost($0.host, host) }) {
            known.slots = []
            return .follow(known)
        }
        return .follow(listed.nodeConfig)
    }

    /// The error a refused redirect fails the call with. It says the command did not run
    /// but carries no `MOVED`/`ASK` code, so callers do not retry a call bound to fail again.
    ///
    /// - Parameters:
    ///   - refusal: Why the redirect was refused.
    ///   - node: The node that answered with the redirect.
    ///   - source: The config's file, for the static-mode advice.
    ///   - refresh: What the topology refresh gave, for an unlisted address.
    func error(_ refusal: Refusal, from node: NodeConfig, source: String, refresh: String) -> RedisError {
        // Cluster-mode nodes are named by their address: say it once.
        let answered = node.name == "\(node.address)" ? node.name : node.description
        let text: String
        switch refusal {
        case .staticMode:
            text =
                "\(answered) belongs to a Redis Cluster: it answered \"\(message)\", and a static config never follows "
                + "redirects, so nothing was sent to \(address). Use cluster mode in \(source): set \"mode\": \"cluster\" "
                + "and replace \"nodes\" with \"seeds\" naming one or more nodes of the cluster, e.g. "
                + "[{\"host\": \"\(node.host)\", \"port\": \(node.port)}]"
        case .unlisted:
            text =
                "\(answered) answered \"\(message)\", but \(address) is not a node of the cluster topology "
                + "(\(refresh)): the redirect was not followed and nothing was sent to \(address); commands and "
                + "credentials only go to nodes the cluster lists"
        }
        return RedisError(code: .serverError, delivery: .replied, node: answered, message: text)
    }

    /// Host names compare without case; addresses as written.
    private static func sameHost(_ a: String, _ b: String) -> Bool {
        a == b || a.lowercased() == b.lowercased()
    }
}
