import Foundation
import SeckillRouting
import SeckillTestSupport

/// Two real cluster-enabled redis-servers whose redirects point where the test counts
/// connections.
///
/// `a` starts as a one-node Redis Cluster serving every slot. ``redirect()`` then joins `b`,
/// which announces itself at ``proxy``'s port, and gives it the slot of ``key``: from then on
/// `a` answers `MOVED slot 127.0.0.1:<proxy port>` for that key, and every connection made to
/// that address is counted by the proxy (and forwarded to `b`).
final class RedirectingPair: Sendable {
    let a: RedisServer
    let b: RedisServer
    let proxy: FaultProxy
    /// A key of ``slot``.
    let key: String
    /// The slot `b` serves after ``redirect()``.
    let slot: Int

    private init(a: RedisServer, b: RedisServer, proxy: FaultProxy) {
        self.a = a
        self.b = b
        self.proxy = proxy
        self.key = "redirect-{\(UUID().uuidString)}"
        self.slot = Int(HashSlot(key: key).rawValue)
    }

    deinit {
        proxy.stop()
        a.stop()
        b.stop()
    }

    /// Starts both servers and the proxy; `a` serves every slot.
    ///
    /// - Parameter user: An ACL user created on both servers, for clients that authenticate.
    static func start(user: (name: String, password: String)? = nil) async throws -> RedirectingPair {
        try await RedisCluster.blocking {
            // A node learns its own IP from the first peer it talks to: until then a one-node
            // cluster lists itself with an empty address, which is no usable topology.
            let announce = ["--cluster-announce-ip", "127.0.0.1"]
            let a = try RedisServer(cluster: true, arguments: announce)
            let b = try RedisServer(cluster: true, arguments: announce)
            let pair = RedirectingPair(a: a, b: b, proxy: try FaultProxy(upstreamPort: b.port))
            if let user {
                for server in [a, b] {
                    try pair.ok(server, "ACL", "SETUSER", user.name, "on", ">" + user.password, "~*", "&*", "+@all")
                }
            }
            try pair.ok(a, "CLUSTER", "ADDSLOTSRANGE", "0", "16383")
            try pair.poll("cluster state ok on a") {
                (try AdminConnection.command(port: a.port, ["CLUSTER", "INFO"]).string ?? "").contains("cluster_state:ok")
            }
            return pair
        }
    }

    /// Joins `b` (announced at the proxy's port) and moves ``slot`` to it; returns when `a`
    /// redirects ``key`` there and `b` serves it.
    func redirect() async throws {
        try await RedisCluster.blocking { [self] in
            try ok(b, "CONFIG", "SET", "cluster-announce-port", String(proxy.port))
            let bID = try AdminConnection.command(port: b.port, ["CLUSTER", "MYID"]).string ?? ""
            try ok(b, "CLUSTER", "MEET", "127.0.0.1", String(a.port))
            try poll("a knows b at the proxy's port") {
                let nodes = try AdminConnection.command(port: a.port, ["CLUSTER", "NODES"]).string ?? ""
                return nodes.split(separator: "\n").contains { line in
                    line.hasPrefix("\(bID) 127.0.0.1:\(proxy.port)@") && !line.contains("handshake") && !line.contains("noaddr")
                }
            }
            try ok(a, "CLUSTER", "SETSLOT", String(slot), "NODE", bID)
            try ok(b, "CLUSTER", "SETSLOT", String(slot), "NODE", bID)
            // The highest epoch: b's claim wins over anything a said before giving the slot away.
            _ = try AdminConnection.command(port: b.port, ["CLUSTER", "BUMPEPOCH"])
            try poll("a redirects the key to the proxy and b serves it") {
                let fromA = try AdminConnection.command(port: a.port, ["GET", key])
                let fromB = try AdminConnection.command(port: b.port, ["GET", key])
                return fromA.errorMessage == "MOVED \(slot) 127.0.0.1:\(proxy.port)" && fromB.errorMessage == nil
            }
        }
    }

    /// Sends an admin command and fails on an error reply.
    func ok(_ server: RedisServer, _ arguments: String...) throws {
        let reply = try AdminConnection.command(port: server.port, arguments)
        if let message = reply.errorMessage {
            throw AdminError("\(arguments.joined(separator: " ")) on \(server.port): \(message)")
        }
    }

    /// Polls `condition` every 20 ms for up to 10 s (blocking: call it on a thread of its own).
    private func poll(_ what: String, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if try condition() { return }
            Thread.sleep(forTimeInterval: 0.02)
        }
        throw AdminError("timed out waiting until \(what)")
    }
}
