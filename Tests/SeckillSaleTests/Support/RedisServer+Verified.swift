import Foundation
import SeckillTestSupport

extension RedisServer {
    /// A server that is certainly the process this test started. `RedisServer` takes any
    /// listener on its port for its server, so a port taken meanwhile by another test's
    /// listener (a proxy, a cluster bus) would pass for it; the server's `dir` tells.
    static func verified(arguments: [String] = []) throws -> RedisServer {
        var last = ""
        for _ in 0..<5 {
            let server = try RedisServer(arguments: arguments)
            let dir = (try? server.cli("CONFIG", "GET", "dir")) ?? ""
            if dir.contains(server.directory.lastPathComponent) { return server }
            last = "port \(server.port) answered \(dir.prefix(200))"
            server.stop()
        }
        throw TestFailure("could not start a redis-server of our own: \(last)")
    }

    /// A cluster-enabled server. Redis Cluster listens on the port + 10000 too, so a server
    /// given a port above 55535 cannot start; such a draw is retried here.
    static func clusterEnabled() async throws -> RedisServer {
        try await offThePool { try clusterEnabledNow() }
    }

    private static func clusterEnabledNow() throws -> RedisServer {
        var lastError: (any Error)?
        for _ in 0..<20 {
            do {
                let server = try RedisServer(cluster: true)
                if server.port <= 55_535 { return server }
                server.stop()
            } catch {
                lastError = error
            }
        }
        throw lastError ?? TestFailure("no port at or below 55535 was free for a cluster-enabled redis-server")
    }
}
