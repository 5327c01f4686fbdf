/// Limits of the flash-sale coordinator (`sale` in cluster.json), owned by the sale layer:
/// the routing layer keeps the section unread and ``SaleConfig`` decodes it.
///
/// Request records (the first answer to a request id, so a retry gets it back instead of
/// acting twice) live as long as their item and have no setting: the former
/// `requestTtlSeconds` is rejected with a message saying so.
public struct SaleSettings: Sendable, Hashable {
    /// The most one coordinator call may take, retries and redirects included
    /// (`callDeadlineMs`, default 3000 ms; at least `timeouts.commandMs`).
    public var callDeadline: Duration
    /// Whether the sale may run on nodes whose `maxmemory-policy` is not `noeviction`
    /// (`allowEvictionPolicy`, default false: the sale layer refuses such nodes).
    ///
    /// Under memory pressure an evicting node deletes keys without telling anyone: with a
    /// `volatile-*` or `allkeys-*` policy it may evict request records, buyers, stock or
    /// orders. A request record or buyer evicted lets a retry of the same request, or the
    /// same buyer, buy twice; evicted stock or orders lose units or orders. Set it only for
    /// tests or nodes that can never reach `maxmemory`.
    public var allowEvictionPolicy: Bool

    /// The defaults used when cluster.json has no `sale` section.
    public static let defaults = SaleSettings()

    /// Creates sale settings; every parameter defaults to the documented value.
    ///
    /// - Parameters:
    ///   - callDeadline: Overall limit for one coordinator call.
    ///   - allowEvictionPolicy: Run on nodes that may evict keys.
    public init(callDeadline: Duration = .milliseconds(3000), allowEvictionPolicy: Bool = false) {
        self.callDeadline = callDeadline
        self.allowEvictionPolicy = allowEvictionPolicy
    }
}
