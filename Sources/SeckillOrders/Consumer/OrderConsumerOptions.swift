/// Settings of an ``OrderConsumer``, with documented defaults.
public struct OrderConsumerOptions: Sendable {
    /// The consumer group on every orders stream (default `seckill-orders`). Every group
    /// gets each order once; give another service its own group.
    public var group = "seckill-orders"
    /// This consumer's name in the group (default `consumer`). A consumer restarted under
    /// the same name takes its own unacknowledged entries back at once; another name waits
    /// for ``claimTimeout``.
    public var consumer = "consumer"
    /// Most entries read from one stream per pass (default 500).
    public var batchSize = 500
    /// How long an entry may stay unacknowledged by another consumer before this one takes
    /// it over with `XAUTOCLAIM` (default 30 s).
    public var claimTimeout: Duration = .seconds(30)
    /// Deliveries after which an entry that still cannot be handed on is moved to the
    /// dead-letter stream `...:orders:dead` (default 5).
    public var maxDeliveries = 5
    /// How often the streams are listed again (`SCAN` per node), so new items and moved
    /// slots are picked up (default 5 s).
    public var discoveryInterval: Duration = .seconds(5)
    /// How long ``OrderConsumer/run()`` waits after a pass that found nothing (default 200 ms).
    public var pollInterval: Duration = .milliseconds(200)
    /// How long one round of reads or acknowledgements may take, redirects included (default 10 s).
    public var callDeadline: Duration = .seconds(10)

    /// Creates the default settings.
    public init() {}

    /// Checks the settings.
    ///
    /// - Throws: ``OrderError`` (`invalidInput`) naming the setting that is out of range.
    public func validate() throws(OrderError) {
        if group.isEmpty || group.contains(" ") {
            throw OrderError(.invalidInput, "consumer group \"\(group)\" must be non-empty, without spaces")
        }
        if consumer.isEmpty || consumer.contains(" ") {
            throw OrderError(.invalidInput, "consumer name \"\(consumer)\" must be non-empty, without spaces")
        }
        if !(1...100_000).contains(batchSize) { throw OrderError(.invalidInput, "batch size must be 1...100000, got \(batchSize)") }
        if !(1...1_000).contains(maxDeliveries) {
            throw OrderError(.invalidInput, "max deliveries must be 1...1000, got \(maxDeliveries)")
        }
        if claimTimeout < .zero { throw OrderError(.invalidInput, "claim timeout must not be negative") }
    }
}

/// What one or more passes of an ``OrderConsumer`` did.
public struct DrainReport: Sendable, Hashable {
    /// Orders streams known (plain items and buckets).
    public var streams = 0
    /// Entries read (new, redelivered and claimed).
    public var entriesRead = 0
    /// Entries taken over with `XAUTOCLAIM` because they were pending past the claim
    /// timeout (another consumer's, or this one's own left that long).
    public var claimed = 0
    /// What the sink did with the events.
    public var sink = OrderSinkResult()
    /// Entries moved to a dead-letter stream.
    public var deadLettered = 0
    /// Entries acknowledged (`XACK`).
    public var acknowledged = 0
    /// Streams skipped this pass because another live consumer holds their earliest entries.
    public var busyStreams = 0
    /// Streams that could not be read or acknowledged (a node down, an error reply), one line each.
    public var failures: [String] = []

    /// Creates an empty report.
    public init() {}

    /// Adds another pass's counts (streams: the latest).
    public static func += (lhs: inout DrainReport, rhs: DrainReport) {
        lhs.streams = rhs.streams
        lhs.entriesRead += rhs.entriesRead
        lhs.claimed += rhs.claimed
        lhs.sink += rhs.sink
        lhs.deadLettered += rhs.deadLettered
        lhs.acknowledged += rhs.acknowledged
        lhs.busyStreams = rhs.busyStreams
        lhs.failures += rhs.failures
    }
}
