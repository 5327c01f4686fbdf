/// One Redis node of the cluster and the hash slots it serves.
public struct NodeConfig: Sendable, Hashable, CustomStringConvertible {
    /// A unique, non-empty name used in logs and reports, e.g. `node-a`.
    public var name: String
    /// The host name or IP address (IPv6 without brackets).
    public var host: String
    /// The TCP port, 1-65535.
    public var port: Int
    /// The slot ranges this node serves, each within 0-16383.
    public var slots: [ClosedRange<Int>]

    /// Creates a node description.
    ///
    /// - Parameters:
    ///   - name: A unique, non-empty name.
    ///   - host: The host name or IP address.
    ///   - port: The TCP port.
    ///   - slots: The slot ranges the node serves.
    public init(name: String, host: String, port: Int, slots: [ClosedRange<Int>]) {
        self.name = name
        self.host = host
        self.port = port
        self.slots = slots
    }

    /// The node's address.
    public var address: NodeAddress {
        NodeAddress(host: host, port: port)
    }

    /// `name (host:port)`.
    public var description: String {
        "\(name) (\(address))"
    }
}
