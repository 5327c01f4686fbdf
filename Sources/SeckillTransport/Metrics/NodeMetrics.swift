import Synchronization

/// What happened on one node's pool, counted as it happens; read with ``snapshot``.
public final class NodeMetrics: Sendable {
    private let redirectCount = Atomic<Int>(0)
    private let errors = Mutex<[String: Int]>([:])
    /// Round-trip latency of each command (each pipeline counts once per command); its count
    /// is the number of commands answered or failed.
    public let latency = LatencyHistogram()

    /// Creates empty counters.
    public init() {}

    /// Counts `count` commands answered (or failed) after `elapsed`.
    public func commands(_ count: Int, elapsed: Duration) {
        latency.record(elapsed, count: count)
    }

    /// Counts `count` commands answered (or failed) after `nanoseconds`.
    public func commands(_ count: Int, nanoseconds: UInt64) {
        latency.record(micros: Int(clamping: nanoseconds / 1_000), count: count)
    }

    /// Counts a failure by its code (`timeout`, `overloaded`, a server code such as `NOSCRIPT`).
    public func error(code: String) {
        errors.withLock { $0[code, default: 0] += 1 }
    }

    /// Counts a `MOVED` or `ASK` followed from this node.
    public func redirect() { redirectCount.add(1, ordering: .relaxed) }

    /// The counts so far; `inFlight` and `reconnects` are the pool's (``NodePool/inFlight``,
    /// ``NodePool/reconnects``), given by the caller.
    public func snapshot(node: String, inFlight: Int, reconnects: Int = 0) -> Snapshot {
        let latency = latency.snapshot
        return Snapshot(
            node: node, commands: latency.count, inFlight: inFlight, errors: errors.withLock { $0 },
            redirects: redirectCount.load(ordering: .relaxed), reconnects: reconnects, latency: latency)
    }

    /// One node's counts at one moment.
    public struct Snapshot: Sendable, Hashable {
        /// The node's name.
        public var node: String
        /// Commands answered or failed.
        public var commands: Int
        /// Commands sent and not yet answered.
        public var inFlight: Int
        /// Failures by code.
        public var errors: [String: Int]
        /// Redirects followed from this node.
        public var redirects: Int
        /// Connections opened again after a loss.
        public var reconnects: Int
        /// Round-trip latencies.
        public var latency: LatencyHistogram.Snapshot

        /// Creates a snapshot.
        public init(
            node: String, commands: Int, inFlight: Int, errors: [String: Int], redirects: Int, reconnects: Int,
            latency: LatencyHistogram.Snapshot
        ) {
            self.node = node
            self.commands = commands
            self.inFlight = inFlight
            self.errors = errors
            self.redirects = redirects
            self.reconnects = reconnects
            self.latency = latency
        }
    }
}
