/// Limits of the flash-sale coordinator (`sale` in cluster.json).
public struct SaleSettings: Sendable, Hashable {
    /// How long a purchase or cancel request record is kept, so a retry with the same
    /// request id gets the first answer instead of acting twice (`requestTtlSeconds`,
    /// default 86400 s, one day).
    public var requestTTL: Duration
    /// The most one coordinator call may take, retries and redirects included
    /// (`callDeadlineMs`, default 3000 ms).
    public var callDeadline: Duration

    /// The defaults used when cluster.json has no `sale` section.
    public static let defaults = SaleSettings()

    /// Creates sale settings; every parameter defaults to the documented value.
    ///
    /// - Parameters:
    ///   - requestTTL: Lifetime of request records.
    ///   - callDeadline: Overall limit for one coordinator call.
    public init(requestTTL: Duration = .seconds(86_400), callDeadline: Duration = .milliseconds(3000)) {
        self.requestTTL = requestTTL
        self.callDeadline = callDeadline
    }
}
