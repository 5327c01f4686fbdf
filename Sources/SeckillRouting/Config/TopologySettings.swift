/// How a cluster-mode client keeps its slot map current (`topology` in cluster.json).
///
/// Accepted in both modes, so a file can switch `mode` without losing its tuning, but
/// only used when ``ClusterConfig/mode`` is ``ClusterMode/cluster``.
public struct TopologySettings: Sendable, Hashable {
    /// How often the slot map is refreshed from the cluster even without a redirect
    /// (`refreshIntervalMs`, default 5000 ms).
    public var refreshInterval: Duration
    /// How many `MOVED`/`ASK` redirects one command may follow before failing
    /// (`maxRedirects`, default 5).
    public var maxRedirects: Int

    /// The defaults used when cluster.json has no `topology` section.
    public static let defaults = TopologySettings()

    /// Creates topology settings; every parameter defaults to the documented value.
    ///
    /// - Parameters:
    ///   - refreshInterval: Period of the background slot-map refresh.
    ///   - maxRedirects: Redirects followed per command.
    public init(refreshInterval: Duration = .milliseconds(5000), maxRedirects: Int = 5) {
        self.refreshInterval = refreshInterval
        self.maxRedirects = maxRedirects
    }
}
