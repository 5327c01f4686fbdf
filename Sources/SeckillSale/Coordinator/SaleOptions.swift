/// How the coordinator retries and how long it keeps request records.
public struct SaleOptions: Sendable, Hashable {
    /// How long a request id's first answer is kept, so retries get it back. Default 24 h.
    public var requestTTL: Duration
    /// The most one call may take, retries included. Default 3 s.
    public var callDeadline: Duration
    /// First pause between retries; doubles each time up to ``maxBackoff``. Default 2 ms.
    public var minBackoff: Duration
    /// Longest pause between retries. Default 100 ms.
    public var maxBackoff: Duration

    /// Creates options with the documented defaults.
    public init(
        requestTTL: Duration = .seconds(24 * 3600),
        callDeadline: Duration = .seconds(3),
        minBackoff: Duration = .milliseconds(2),
        maxBackoff: Duration = .milliseconds(100)
    ) {
        self.requestTTL = requestTTL
        self.callDeadline = callDeadline
        self.minBackoff = minBackoff
        self.maxBackoff = maxBackoff
    }
}
