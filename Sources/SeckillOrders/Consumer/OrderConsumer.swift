import SeckillRESP
public import SeckillRouting
import SeckillTransport

/// Hands every order on to an ``OrderSink``: reads the orders stream of every item on every
/// node (plain items and each bucket of a bucketed item) through a consumer group, commits
/// the events to the sink, and acknowledges them (`XACK`) only once the sink committed.
///
/// Delivery is at least once: a consumer that dies between a commit and its acknowledgement
/// gets the same entries again (from its own pending list when restarted under the same
/// name, or claimed with `XAUTOCLAIM` by another consumer after
/// ``OrderConsumerOptions/claimTimeout``), and the sink skips what it already applied.
/// Per stream, entries are handed on in id order: a stream whose earliest pending entry is
/// held by another live consumer is skipped, and a later entry is never committed before an
/// earlier one that is still unacknowledged. An entry that is not a well-formed event (a
/// poison entry) blocks its stream until it has been delivered
/// ``OrderConsumerOptions/maxDeliveries`` times; then it is moved to the dead-letter stream
/// `...:orders:dead` beside it (same hash tag) with the reason, and acknowledged; so is an
/// entry the sink refuses for good (``OrderRejected``) that many times. A sink that fails
/// otherwise (a database down) dead-letters nothing: the batch is delivered again.
///
/// Every read goes through the cluster client's one route: each pass's reads are grouped per
/// node and pipelined with ``ClusterClient/execute(_:deadline:)``, which follows `MOVED` and
/// `ASK`, so draining goes on through a reshard. The streams are listed again (`SCAN` per
/// node) every ``OrderConsumerOptions/discoveryInterval``: new items are picked up without a
/// restart. One pass at a time: the consumer is an actor.
public actor OrderConsumer {
    /// The client every read goes through.
    public nonisolated let client: ClusterClient
    /// The settings.
    public nonisolated let options: OrderConsumerOptions
    private let sink: any OrderSink
    private var streams: [String: OrdersStream] = [:]
    /// Streams whose consumer group is still to be made (new, or recreated since).
    private var needsGroup: Set<String> = []
    private var lastDiscovery: ContinuousClock.Instant?

    /// Creates a consumer; nothing is read before the first pass.
    ///
    /// - Throws: ``OrderError`` (`invalidInput`) for invalid settings.
    public init(client: ClusterClient, sink: any OrderSink, options: OrderConsumerOptions = OrderConsumerOptions()) throws(OrderError) {
        try options.validate()
        self.client = client
        self.sink = sink
        self.options = options
    }

    /// Runs passes until the task is cancelled, waiting ``OrderConsumerOptions/pollInterval``
    /// after a pass that read nothing or failed (a failed pass is logged and retried).
    ///
    /// A pass the cancellation interrupts ends with what it did; its reads and acknowledgements
    /// cut short are not failures of their streams (entries read and not acknowledged come again
    /// at the next start, and the sink takes them once).
    ///
    /// - Parameter onPass: Called after every pass that did not fail, with its report.
    public func run(onPass: @Sendable (DrainReport) -> Void = { _ in }) async {
        while !Task.isCancelled {
            var idle = true
            do {
                var report = try await drainOnce()
                if Task.isCancelled { report.failures.removeAll() }
                onPass(report)
                idle = report.entriesRead == 0 || !report.failures.isEmpty
            } catch {
                if Task.isCancelled { break }
                client.logger.log(.warning, "order hand-off pass failed", ["error": "\(error)", "group": options.group])
            }
            if idle { try? await Task.sleep(for: options.pollInterval) }
        }
    }

    /// Runs passes until one reads nothing (every entry that can be handed on now is) or one
    /// meets a stream it cannot read or acknowledge (see ``DrainReport/failures``).
    ///
    /// - Returns: The passes' reports added up.
    /// - Throws: ``OrderError`` from a pass.
    public func drain() async throws(OrderError) -> DrainReport {
        var total = DrainReport()
        while true {
            let report = try await drainOnce()
            total += report
            // A failing stream would be read again and again: stop and let the caller see it.
            if report.entriesRead == 0 || !report.failures.isEmpty || Task.isCancelled { return total }
        }
    }

    /// One pass: lists the streams when due, makes missing groups, reads up to
    /// ``OrderConsumerOptions/batchSize`` entries of each stream, commits them to the sink in
    /// one batch, dead-letters poison entries that ran out of attempts, and acknowledges.
    ///
    /// - Returns: What the pass did; streams that could not be read are in ``DrainReport/failures``.
    /// - Throws: ``OrderError``: `redis` when the streams cannot be listed and none is known
    ///   yet, `database` when the sink failed (nothing of the batch is acknowledged; it comes
    ///   again).
    public func drainOnce() async throws(OrderError) -> DrainReport {
        var report = DrainReport()
        if lastDiscovery.map({ ContinuousClock.now - $0 >= options.discoveryInterval }) ?? true {
            do {
                try await discover()
            } catch  where !streams.isEmpty {
                // A node that cannot be listed does not stop the streams already known.
                report.failures.append(error.message)
            }
        }
        await createGroups(into: &report)
        report.streams = streams.count

        let ready = streams.values.filter { !needsGroup.contains($0.key) }.sorted()
        var (batches, settled) = await readPending(ready, into: &report)
        batches += await readNew(ready.filter { !settled.contains($0.key) }, into: &report)

        var events: [OrderEvent] = []
        var acks: [OrdersStream: [String]] = [:]
        var dead: [DeadLetter] = []
        for batch in batches {
            report.entriesRead += batch.entries.count
            for entry in batch.entries {
                guard let fields = entry.fields else {
                    // Deleted from the stream (trimmed) while pending: nothing to hand on.
                    acks[batch.stream, default: []].append(entry.id)
                    continue
                }
                do throws(OrderError) {
                    events.append(
                        try OrderEvent.parse(source: batch.stream, entry: entry.id, fields: Dictionary(fields, uniquingKeysWith: { $1 })))
                    acks[batch.stream, default: []].append(entry.id)
                } catch {
                    if entry.deliveries >= options.maxDeliveries {
                        dead.append(
                            DeadLetter(
                                stream: batch.stream, entry: entry.id, fields: fields, reason: error.message, deliveries: entry.deliveries))
                        continue
                    }
                    client.logger.log(
                        .warning, "order entry cannot be handed on; retried later",
                        [
                            "stream": batch.stream.key, "entry": entry.id, "reason": error.message,
                            "attempt": "\(entry.deliveries) of \(options.maxDeliveries)",
                        ])
                    // Later entries of the stream wait for this one.
                    break
                }
            }
        }
        while !events.isEmpty {
            do {
                report.sink += try await sink.commit(events)
                break
            } catch let rejected as OrderRejected {
                // The sink refuses one event for good: the batch goes again without it and the
                // later entries of its stream, which wait for it (dead-lettered once it ran out
                // of attempts, so its stream moves on at the next pass).
                guard let index = events.firstIndex(where: { $0.stream == rejected.stream && $0.entry == rejected.entry }),
                    let source = batches.first(where: { $0.stream.key == rejected.stream }),
                    let entry = source.entries.first(where: { $0.id == rejected.entry })
                else {
                    throw OrderError(.database, "the order sink rejected \(rejected.stream) \(rejected.entry), which is not in the batch")
                }
                let held = Set(events[index...].filter { $0.stream == rejected.stream }.map(\.entry))
                events.removeAll { $0.stream == rejected.stream && held.contains($0.entry) }
                acks[source.stream]?.removeAll { held.contains($0) }
                if entry.deliveries >= options.maxDeliveries {
                    dead.append(
                        DeadLetter(
                            stream: source.stream, entry: entry.id, fields: entry.fields ?? [],
                            reason: "rejected by the sink: \(rejected.reason)",
                            deliveries: entry.deliveries))
                } else {
                    client.logger.log(
                        .warning, "order sink rejected an entry; retried later",
                        [
                            "stream": rejected.stream, "entry": rejected.entry, "reason": rejected.reason,
                            "attempt": "\(entry.deliveries) of \(options.maxDeliveries)",
                        ])
                }
            } catch {
                throw OrderError(.database, "the order sink did not commit \(events.count) events (they will be delivered again): \(error)")
            }
        }
        await deadLetter(dead, into: &report)
        await acknowledge(acks, into: &report)
        if let first = report.failures.first {
            client.logger.log(
                .warning, "orders streams could not be read or acknowledged", ["first": first, "count": String(report.failures.count)])
        }
        if report.entriesRead > 0 {
            client.logger.log(
                .info, "orders handed on",
                [
                    "read": String(report.entriesRead), "inserted": String(report.sink.inserted), "updated": String(report.sink.updated),
                    "unchanged": String(report.sink.unchanged), "deadLettered": String(report.deadLettered),
                    "streams": String(report.streams),
                ])
        }
        return report
    }

    // MARK: Streams and groups

    /// Lists the orders streams on every node; streams seen before stay known until a read
    /// finds them gone (a listing during a reshard can miss a key in flight).
    private func discover() async throws(OrderError) {
        let keys: [String]
        do {
            keys =
                try await client.keys(matching: "seckill:{*}:orders", type: "stream")
                + client.keys(matching: "seckill:b:{*}:orders", type: "stream")
        } catch {
            throw OrderError(.redis, "cannot list the orders streams: \(error)")
        }
        for stream in keys.compactMap(OrdersStream.init(key:)) where streams[stream.key] == nil {
            streams[stream.key] = stream
            needsGroup.insert(stream.key)
        }
        lastDiscovery = .now
        client.logger.log(.debug, "orders streams listed", ["streams": String(streams.count)])
    }

    /// `XGROUP CREATE key group 0` on the streams that need it (never `MKSTREAM`: a stream
    /// that is gone is forgotten instead).
    private func createGroups(into report: inout DrainReport) async {
        let pending = needsGroup.compactMap { streams[$0] }.sorted()
        guard !pending.isEmpty else { return }
        let answers = await client.execute(
            pending.map { .init(slot: HashSlot(key: $0.key), commands: [RESPCommand("XGROUP", "CREATE", $0.key, options.group, "0")]) },
            deadline: .now + options.callDeadline)
        for (stream, answer) in zip(pending, answers) {
            switch answer {
            case .success(let answer):
                let message = answer.replies.first?.errorMessage
                if message == nil || message!.hasPrefix("BUSYGROUP") {
                    needsGroup.remove(stream.key)
                } else if message!.contains("key to exist") {
                    forget(stream)
                } else {
                    report.failures.append("\(stream.key): XGROUP CREATE answered \(message!)")
                }
            case .failure(let error):
                report.failures.append("\(stream.key): cannot create the consumer group: \(error)")
            }
        }
    }

    private func forget(_ stream: OrdersStream) {
        streams[stream.key] = nil
        needsGroup.remove(stream.key)
    }

    // MARK: Reading

    /// One entry read from a stream.
    struct Entry {
        var id: String
        /// Nil for an entry deleted from the stream while it was pending.
        var fields: [(String, String)]?
        var deliveries: Int
    }

    /// A stream's entries of this pass, in id order.
    struct Batch {
        var stream: OrdersStream
        var entries: [Entry]
    }

    struct DeadLetter {
        var stream: OrdersStream
        var entry: String
        var fields: [(String, String)]
        var reason: String
        var deliveries: Int
    }

    /// Per stream, in one call: takes over entries idle past the claim timeout
    /// (`XAUTOCLAIM ... JUSTID`, which leaves their delivery counts alone), reads this
    /// consumer's pending entries again (`XREADGROUP ... 0`, counting a delivery), and reads
    /// the group's earliest pending entries with their owners and delivery counts (`XPENDING`).
    ///
    /// - Returns: The streams with entries of this consumer to hand on, and the keys of every
    ///   stream not to read new entries from this pass (something pending, or unreadable).
    private func readPending(_ ready: [OrdersStream], into report: inout DrainReport) async -> ([Batch], Set<String>) {
        let count = String(options.batchSize)
        let idle = String(Self.milliseconds(options.claimTimeout))
        let calls: [ClusterClient.Call] = ready.map { stream in
            .init(
                slot: HashSlot(key: stream.key),
                commands: [
                    RESPCommand("XAUTOCLAIM", stream.key, options.group, options.consumer, idle, "0-0", "COUNT", count, "JUSTID"),
                    RESPCommand("XREADGROUP", "GROUP", options.group, options.consumer, "COUNT", count, "STREAMS", stream.key, "0"),
                    RESPCommand("XPENDING", stream.key, options.group, "-", "+", count),
                ])
        }
        let answers = await client.execute(calls, deadline: .now + options.callDeadline)
        var batches: [Batch] = []
        var settled = Set<String>()
        for (stream, answer) in zip(ready, answers) {
            guard let replies = replies(answer, of: stream, into: &report) else {
                settled.insert(stream.key)
                continue
            }
            report.claimed += replies[0].array.flatMap { $0.count > 1 ? $0[1].array?.count : nil } ?? 0
            var deliveries: [String: Int] = [:]
            var firstForeign: String?
            for pending in replies[2].array ?? [] {
                guard let fields = pending.array, fields.count >= 4, let id = fields[0].string else { continue }
                deliveries[id] = Int(fields[3].int ?? 1)
                if fields[1].string != options.consumer, firstForeign.map({ Self.precedes(id, $0) }) ?? true { firstForeign = id }
            }
            if deliveries.isEmpty { continue }  // nothing pending: read new entries
            settled.insert(stream.key)
            var entries = Self.entries(replies[1]).map { entry in
                var entry = entry
                entry.deliveries = deliveries[entry.id] ?? 1
                return entry
            }
            // Never ahead of an earlier entry another live consumer still holds.
            if let firstForeign { entries = Array(entries.prefix { Self.precedes($0.id, firstForeign) }) }
            if entries.isEmpty {
                report.busyStreams += 1
            } else {
                batches.append(Batch(stream: stream, entries: entries))
            }
        }
        return (batches, settled)
    }

    /// `XREADGROUP ... >` on the streams with nothing pending in the group.
    private func readNew(_ streams: [OrdersStream], into report: inout DrainReport) async -> [Batch] {
        guard !streams.isEmpty else { return [] }
        let count = String(options.batchSize)
        let answers = await client.execute(
            streams.map { stream in
                .init(
                    slot: HashSlot(key: stream.key),
                    commands: [
                        RESPCommand("XREADGROUP", "GROUP", options.group, options.consumer, "COUNT", count, "STREAMS", stream.key, ">")
                    ])
            },
            deadline: .now + options.callDeadline)
        var batches: [Batch] = []
        for (stream, answer) in zip(streams, answers) {
            guard let replies = replies(answer, of: stream, into: &report) else { continue }
            let entries = Self.entries(replies[0])
            if !entries.isEmpty { batches.append(Batch(stream: stream, entries: entries)) }
        }
        return batches
    }

    /// The replies of a call, or nil with the failure recorded (a missing group is made again
    /// on the next pass; a stream that is gone is forgotten then).
    private func replies(_ answer: Result<ClusterClient.Answer, RedisError>, of stream: OrdersStream, into report: inout DrainReport)
        -> [RESPValue]?
    {
        switch answer {
        case .success(let answer):
            if let message = answer.replies.lazy.compactMap(\.errorMessage).first {
                if message.hasPrefix("NOGROUP") {
                    needsGroup.insert(stream.key)
                } else {
                    report.failures.append("\(stream.key) on \(answer.node.name): \(message)")
                }
                return nil
            }
            return answer.replies
        case .failure(let error):
            report.failures.append("\(stream.key): \(error)")
            return nil
        }
    }

    /// The entries of an `XREADGROUP` reply for one stream (RESP2 `[[key, entries]]` or a
    /// RESP3 map `{key: entries}`), in id order; deliveries set to 1.
    static func entries(_ reply: RESPValue) -> [Entry] {
        guard let outer = reply.array, !outer.isEmpty else { return [] }
        let list: [RESPValue]
        if let first = outer[0].array, first.count == 2 {
            list = first[1].array ?? []
        } else if outer.count == 2 {
            list = outer[1].array ?? []
        } else {
            return []
        }
        return list.compactMap { item in
            guard let parts = item.array, parts.count == 2, let id = parts[0].string else { return nil }
            guard let flat = parts[1].array else { return Entry(id: id, fields: nil, deliveries: 1) }
            var fields: [(String, String)] = []
            var index = 0
            while index + 1 < flat.count {
                fields.append((flat[index].string ?? "", flat[index + 1].string ?? ""))
                index += 2
            }
            return Entry(id: id, fields: fields, deliveries: 1)
        }
    }

    // MARK: Writing back

    /// Moves each poison entry to its dead-letter stream with the reason, then acknowledges it.
    private func deadLetter(_ dead: [DeadLetter], into report: inout DrainReport) async {
        guard !dead.isEmpty else { return }
        let calls: [ClusterClient.Call] = dead.map { letter in
            var add = RESPCommand(
                "XADD", letter.stream.deadLetterKey, "*", "stream", letter.stream.key, "entry", letter.entry, "group", options.group,
                "reason",
                letter.reason, "deliveries", String(letter.deliveries))
            add.append("fields")
            add.append(letter.fields.map { "\($0.0) \($0.1)" }.joined(separator: " "))
            return .init(
                slot: HashSlot(key: letter.stream.key),
                commands: [add, RESPCommand("XACK", letter.stream.key, options.group, letter.entry)])
        }
        let answers = await client.execute(calls, deadline: .now + options.callDeadline)
        for (letter, answer) in zip(dead, answers) {
            if replies(answer, of: letter.stream, into: &report) != nil {
                report.deadLettered += 1
                report.acknowledged += 1
                client.logger.log(
                    .warning, "order entry dead-lettered",
                    [
                        "stream": letter.stream.key, "entry": letter.entry, "reason": letter.reason,
                        "deadLetter": letter.stream.deadLetterKey,
                    ])
            }
        }
    }

    /// `XACK` of every handed-on entry, one call per stream.
    private func acknowledge(_ acks: [OrdersStream: [String]], into report: inout DrainReport) async {
        let streams = acks.keys.sorted()
        guard !streams.isEmpty else { return }
        let answers = await client.execute(
            streams.map { stream in
                var command = RESPCommand("XACK", stream.key, options.group)
                for id in acks[stream]! { command.append(id) }
                return .init(slot: HashSlot(key: stream.key), commands: [command])
            },
            deadline: .now + options.callDeadline)
        for (stream, answer) in zip(streams, answers) {
            // An acknowledgement lost here only means the entries come again: the sink skips them.
            if let replies = replies(answer, of: stream, into: &report) { report.acknowledged += Int(replies[0].int ?? 0) }
        }
    }

    // MARK: Ids and times

    /// Whether stream id `a` comes before `b` (`MILLISECONDS-SEQUENCE`, compared as numbers).
    static func precedes(_ a: String, _ b: String) -> Bool {
        func parts(_ id: String) -> (UInt64, UInt64) {
            let split = id.split(separator: "-")
            return (UInt64(split.first ?? "") ?? 0, UInt64(split.count > 1 ? split[1] : "") ?? 0)
        }
        return parts(a) < parts(b)
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }
}
