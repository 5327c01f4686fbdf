/// How the nodes are found (`mode` in cluster.json).
public enum ClusterMode: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The file lists every node and its slot ranges (`nodes`); the map never changes at
    /// run time. The default.
    case `static`
    /// A real Redis Cluster: the file lists a few `seeds`, and the nodes and their slots
    /// are discovered from them at run time (`CLUSTER SHARDS`), following `MOVED`/`ASK`.
    case cluster

    /// The name as written in cluster.json: `static` or `cluster`.
    public var description: String {
        rawValue
    }
}
