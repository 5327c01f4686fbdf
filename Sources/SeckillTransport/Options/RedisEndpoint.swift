/// Where one Redis node listens.
public struct RedisEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// A name for messages and reports (the node's name in cluster.json).
    public var name: String
    /// A host name, or an IPv4 / IPv6 literal (without brackets).
    public var host: String
    /// The TCP port.
    public var port: Int

    /// Creates an endpoint; `name` defaults to `host:port`.
    public init(name: String? = nil, host: String, port: Int) {
        self.host = host
        self.port = port
        self.name = name ?? RedisEndpoint.address(host: host, port: port)
    }

    /// `host:port`, with brackets around an IPv6 literal.
    public var address: String { RedisEndpoint.address(host: host, port: port) }

    /// `name (host:port)`, or `host:port` when the name is the address.
    public var description: String { name == address ? address : "\(name) (\(address))" }

    static func address(host: String, port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
