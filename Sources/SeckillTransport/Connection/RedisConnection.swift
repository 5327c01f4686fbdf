internal import CSeckillSys
internal import Glibc
internal import SeckillRESP
import Synchronization

/// One TCP connection to a Redis node, shared by any number of concurrent callers.
///
/// Callers append their encoded commands to one output buffer and wait; the event loop writes
/// everything queued since its last pass in a single `send` and matches replies to callers in
/// order. A caller never waits for another caller's write, and no thread is tied to a request.
final class RedisConnection: EventLoopHandler, EventLoopFlushable, @unchecked Sendable {
    // @unchecked: `State` is behind `state`'s Mutex; the properties marked "loop thread" are
    // read and written only by the event loop thread, which does all the socket I/O.

    let endpoint: RedisEndpoint
    let fd: Int32
    let loop: EventLoop

    private let needsFlush = Atomic<Bool>(false)
    private let inFlightCount = Atomic<Int>(0)
    private let closedFlag = Atomic<Bool>(false)
    private let state = Mutex(State())

    private struct State {
        var output: [UInt8] = []
        /// Commands in `output`, not yet handed to the socket.
        var unwritten = 0
        var enqueuedBytes: UInt64 = 0
        var pending = RingBuffer<Pending>(capacity: 64)
        var closeReason: RedisError?
        var lastDeadline: UInt64 = 0
        /// Set when a command was queued with an earlier deadline than the one before it, so
        /// the head of the queue is no longer the first to expire.
        var deadlinesOutOfOrder = false
    }

    private struct Pending {
        var sink: ReplySink
        var start: UInt64
        var deadline: UInt64
        /// The send call it belongs to, for cancellation (the commands of a batch share it).
        var call: UInt64
    }

    /// Numbers send calls, for cancellation.
    private let calls = Atomic<UInt64>(0)

    // Loop thread.
    private var writing: [UInt8] = []
    private var writingOffset = 0
    private var bytesWritten: UInt64 = 0
    private var watchingWritable = false
    /// Received bytes; `readStart..<readEnd` is not decoded yet. Raw memory rather than an
    /// array so that growing it for one large reply neither zero-fills nor copies the dead prefix.
    private var readBuffer: UnsafeMutableRawPointer
    private var readCapacity: Int
    private var readStart = 0
    private var readEnd = 0
    private var decoded: [RESPValue] = []
    private var resolved: [(ReplySink, RESPValue)] = []
    /// Remembers how far it got in a reply that spans reads, so each read costs only its own bytes.
    private var decoder: RESPStreamDecoder
    private let maxReplyBytes: Int
    /// How long commands may be outstanding with no reply at all before the node counts as
    /// stuck and the connection is replaced (the command timeout), in nanoseconds.
    private let stuckAfter: UInt64
    /// Replies read so far, and the count and time the last tick saw progress (loop thread).
    private var repliesRead: UInt64 = 0
    private var progressSeen: UInt64 = 0
    private var progressAt: UInt64 = 0
    /// Called on the loop thread once, after the connection failed or was closed. A constant
    /// given at creation, so it is in place before the loop can see the connection.
    private let onClose: (@Sendable (RedisConnection) -> Void)?

    /// Creates a connection over a connected socket; ``attach()`` starts its I/O.
    ///
    /// - Parameters:
    ///   - fd: The connected, non-blocking socket, now owned by the connection.
    ///   - endpoint: The node, for error messages.
    ///   - loop: The event loop that does the connection's I/O.
    ///   - maxReplyBytes: The largest reply accepted (``ConnectionOptions/maxReplyBytes``).
    ///   - commandTimeout: How long commands may go unanswered, none answered at all, before
    ///     the node counts as stuck and the connection is dropped (``ConnectionOptions/commandTimeout``).
    ///   - onClose: Called once on the loop thread after the connection failed or was closed.
    init(
        fd: Int32, endpoint: RedisEndpoint, loop: EventLoop,
        maxReplyBytes: Int = ConnectionOptions.defaultMaxReplyBytes,
        commandTimeout: Duration = ConnectionOptions().commandTimeout,
        onClose: (@Sendable (RedisConnection) -> Void)? = nil
    ) {
        self.fd = fd
        self.endpoint = endpoint
        self.loop = loop
        self.maxReplyBytes = maxReplyBytes
        self.stuckAfter = MonotonicClock.nanoseconds(commandTimeout)
        self.progressAt = MonotonicClock.now()
        self.onClose = onClose
        // A bulk string over the reply limit is refused at its header, before anything is
        // reserved for it.
        let limits = RESPDecoder.Limits()
        decoder = RESPStreamDecoder(
            limits: .init(
                maxDepth: limits.maxDepth, maxBulkLength: min(limits.maxBulkLength, maxReplyBytes),
                maxAggregateLength: limits.maxAggregateLength, maxLineLength: limits.maxLineLength))
        readCapacity = Self.readBufferSize
        readBuffer = UnsafeMutableRawPointer.allocate(byteCount: Self.readBufferSize, alignment: 16)
    }

    deinit {
        readBuffer.deallocate()
    }

    /// Commands queued or written and not yet answered.
    var inFlight: Int { inFlightCount.load(ordering: .relaxed) }

    /// True once the connection failed or was closed; it never reopens.
    var isClosed: Bool { closedFlag.load(ordering: .acquiring) }

    /// Loop thread only. A connection waiting for its socket to drain has nothing the loop
    /// can write now: counting it would keep the loop from sleeping and spin a core at 100%
    /// for as long as the peer does not read (a paused or stuck server).
    var hasPendingOutput: Bool { !watchingWritable && needsFlush.load(ordering: .sequentiallyConsistent) }

    // MARK: Sending

    /// Sends one command and waits for its reply (error replies are returned, not thrown).
    /// A cancelled caller gets `cancelled` at once, with an unknown outcome: the command was
    /// handed to the connection and may run; its reply is read and dropped.
    func send(_ command: RESPCommand, deadline: UInt64) async throws -> RESPValue {
        try await send(command, appending: [], deadline: deadline)
    }

    /// ``send(_:deadline:)`` for `command` completed by `arguments`, encoded straight into the
    /// output buffer (see ``RESPCommand/encode(appending:into:)``).
    @inline(__always)
    func send(_ command: RESPCommand, appending arguments: [String], deadline: UInt64) async throws -> RESPValue {
        let call = calls.add(1, ordering: .relaxed).newValue
        // The handler is installed without the hops `withTaskCancellationHandler` makes on entry
        // and return: a task that prefers the I/O thread looks that preference up under a lock
        // at every executor switch, and these two were half of a purchase's (uprobe counts per
        // purchase: `swift_task_switch` 4.4 -> 2.2, runtime mutex locks 7.8 -> 5.6). The
        // handler and the operation are the same either way.
        return try await _unsafeInheritExecutor_withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { continuation in
                let refused = enqueue(count: 1, deadline: deadline, call: call, sinks: { _ in .single(continuation) }) { output, _ in
                    command.encode(appending: arguments, into: &output)
                }
                if let refused { continuation.resume(throwing: refused) } else { cancelIfLate(call: call) }
            }
        } onCancel: {
            cancel(call: call)
        }
    }

    /// Sends `commands` back to back in one write and waits for all their replies; cancelled
    /// like ``send(_:deadline:)``.
    func send(_ commands: [RESPCommand], deadline: UInt64) async throws -> [RESPValue] {
        if commands.isEmpty { return [] }
        let call = calls.add(1, ordering: .relaxed).newValue
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { continuation in
                let collector = BatchCollector(count: commands.count, continuation: continuation)
                let refused = enqueue(count: commands.count, deadline: deadline, call: call, sinks: { .batch(collector, index: $0) }) {
                    commands[$1].encode(into: &$0)
                }
                if let error = refused {
                    continuation.resume(throwing: error)
                } else {
                    cancelIfLate(call: call)
                }
            }
        } onCancel: {
            cancel(call: call)
        }
    }

    /// Cancels `call` again when its task was cancelled before its commands were queued: the
    /// handler's cancellation may have reached the loop first and found nothing to cancel, and
    /// the call would otherwise wait out its deadline. The loop runs this one after the queueing.
    @inline(__always)
    private func cancelIfLate(call: UInt64) {
        if Task.isCancelled { cancel(call: call) }
    }

    /// Fails the caller of `call` with `cancelled` and drops its replies when they come; on
    /// the loop thread, like every other resolution, so a reply and a cancellation never both
    /// resume it.
    private func cancel(call: UInt64) {
        loop.execute { [self] in
            var sinks: [ReplySink] = []
            state.withLock { state in
                state.pending.mutateEach { entry in
                    guard entry.call == call else { return }
                    if case .discard = entry.sink { return }
                    sinks.append(entry.sink)
                    entry.sink = .discard
                }
            }
            // A batch's commands share one collector: failing it once resumes its caller once.
            guard let sink = sinks.first else { return }
            sink.fail(
                RedisError(
                    code: .cancelled, delivery: .unknown, node: endpoint.description,
                    message: "the calling task was cancelled after its command was handed to the connection"))
        }
    }

    /// Queues `count` commands, each written by `encode(output, index)`, with their sinks.
    private func enqueue(
        count: Int, deadline: UInt64, call: UInt64, sinks: (Int) -> ReplySink, encode: (inout [UInt8], Int) -> Void
    ) -> RedisError? {
        let refused: RedisError? = state.withLock { state in
            if let reason = state.closeReason {
                return RedisError(
                    code: reason.code == .poolClosed ? .poolClosed : .connectionClosed, delivery: .notSent,
                    node: endpoint.description, message: "connection is closed: \(reason.message)")
            }
            if deadline < state.lastDeadline { state.deadlinesOutOfOrder = true }
            state.lastDeadline = deadline
            state.unwritten += count
            for index in 0..<count {
                let start = state.enqueuedBytes
                let before = state.output.count
                encode(&state.output, index)
                state.enqueuedBytes &+= UInt64(state.output.count - before)
                state.pending.append(Pending(sink: sinks(index), start: start, deadline: deadline, call: call))
            }
            return nil
        }
        if let refused { return refused }
        inFlightCount.add(count, ordering: .relaxed)
        if !needsFlush.exchange(true, ordering: .sequentiallyConsistent) {
            loop.wakeUp()
        }
        return nil
    }

    /// Closes the connection; callers still waiting get `reason`. Safe from any thread.
    func close(_ reason: RedisError) {
        loop.execute { [self] in fail(reason) }
    }

    // MARK: Loop thread

    /// Starts watching the socket. Loop thread only.
    func attach() {
        loop.register(fd: fd, handler: self)
        loop.addFlushable(self)
    }

    func flushIfNeeded() {
        guard !watchingWritable, needsFlush.exchange(false, ordering: .sequentiallyConsistent) else { return }
        flush()
    }

    func flushIfPeerIsShort() {
        guard !watchingWritable, needsFlush.load(ordering: .relaxed) else { return }
        let written = state.withLock { $0.pending.count - $0.unwritten }
        if written < Self.backlogWorthAWrite { flushIfNeeded() }
    }

    /// Commands written and unanswered from which the node has enough to work on (at 10-20 us
    /// of server time each, about half a millisecond, more than a pass of the loop takes) for
    /// a mid-pass write to wait for the end of the pass.
    static let backlogWorthAWrite = 32

    private func flush() {
        while true {
            if writingOffset == writing.count {
                writing.removeAll(keepingCapacity: true)
                writingOffset = 0
                state.withLock { state in
                    swap(&state.output, &writing)
                    state.unwritten = 0
                }
                if writing.isEmpty {
                    if watchingWritable {
                        watchingWritable = false
                        loop.setInterest(fd: fd, readable: true, writable: false)
                    }
                    return
                }
            }
            let sent = writing.withUnsafeBytes { bytes in
                csk_send(fd, bytes.baseAddress! + writingOffset, bytes.count - writingOffset)
            }
            if sent > 0 {
                writingOffset += sent
                bytesWritten &+= UInt64(sent)
                continue
            }
            let code = errno
            if sent < 0 && (code == EAGAIN || code == EWOULDBLOCK) {
                if !watchingWritable {
                    watchingWritable = true
                    loop.setInterest(fd: fd, readable: true, writable: true)
                }
                return
            }
            fail(closed(code: .connectionClosed, "write failed: \(Self.describe(errno: code))"))
            return
        }
    }

    func handleEvents(readable: Bool, writable: Bool, failed: Bool) {
        if writable && watchingWritable {
            watchingWritable = false
            flush()
        }
        if readable || failed { readAvailable() }
    }

    /// Reads what the socket has (at most 16 reads of at most ``maxReadSize`` bytes, so one
    /// busy connection cannot hold the loop; epoll reports the rest on the next pass),
    /// decoding after every read: the buffer only grows when a single reply is larger than
    /// it, never because many replies arrived at once. The decoder continues a partial reply
    /// where the previous read left it, so a large reply costs time in proportion to its
    /// bytes, not to its bytes times the number of reads, and spreads over loop passes.
    private func readAvailable() {
        var endOfStream = false
        var readError: Int32 = 0
        for _ in 0..<16 {
            ensureRoom()
            let room = min(readCapacity - readEnd, Self.maxReadSize)
            let received = Glibc.read(fd, readBuffer + readEnd, room)
            if received > 0 {
                readEnd += received
                guard decodeAvailable() else { return }
                if received < room { break }
                continue
            }
            if received == 0 {
                endOfStream = true
            } else {
                let code = errno
                if code == EINTR { continue }
                if code != EAGAIN && code != EWOULDBLOCK { readError = code }
            }
            break
        }
        deliverDecoded()

        if endOfStream {
            fail(closed(code: .connectionClosed, "server closed the connection"))
        } else if readError != 0 {
            fail(closed(code: .connectionClosed, "read failed: \(Self.describe(errno: readError))"))
        }
    }

    /// Decodes every complete reply in the buffer; false after a protocol error or a reply
    /// over ``ConnectionOptions/maxReplyBytes`` (the connection is then failed).
    private func decodeAvailable() -> Bool {
        do throws(RESPDecodingError) {
            while readStart < readEnd {
                let released = decoder.releasedBytes
                guard
                    let (value, consumed) = try decoder.decode(
                        UnsafeRawBufferPointer(start: readBuffer + readStart, count: readEnd - readStart))
                else {
                    // Incomplete. What the decoder is done with (decoded elements, the copied
                    // part of a large string) leaves the buffer now, so it holds about one
                    // read rather than the whole reply.
                    let releasable = decoder.releasableBytes
                    decoder.release(releasable)
                    readStart += releasable
                    // The reply spans at least what was released and buffered, and a bulk
                    // payload's announced end, so a huge reply is refused before it arrives.
                    let atLeast = decoder.releasedBytes + max(readEnd - readStart, decoder.bytesNeeded ?? 0)
                    if atLeast > maxReplyBytes {
                        failReplyTooLarge(atLeast: atLeast)
                        return false
                    }
                    break
                }
                if released + consumed > maxReplyBytes {
                    failReplyTooLarge(atLeast: released + consumed)
                    return false
                }
                decoded.append(value)
                readStart += consumed
            }
        } catch {
            if case .bulkTooLong(let length) = error.kind {
                failReplyTooLarge(atLeast: Int(clamping: length))
                return false
            }
            deliverDecoded()
            fail(closed(code: .protocolError, "invalid reply from server: \(error)"))
            return false
        }
        if readStart == readEnd {
            readStart = 0
            readEnd = 0
            // A buffer grown for one huge reply goes back to its usual size.
            if readCapacity > Self.readBufferSize * 64 {
                resizeReadBuffer(to: Self.readBufferSize)
            }
        }
        return true
    }

    static let readBufferSize = 16 * 1024
    /// The most one `read` takes: a buffer grown for a large reply must not let one pass of
    /// the loop read (and decode) megabytes while other connections wait.
    static let maxReadSize = 128 * 1024

    /// Makes sure the next read has room after the buffered bytes.
    ///
    /// The buffer holds only what the decoder still needs (it releases decoded elements and
    /// the copied part of a large string), so it grows only for a piece that must be whole:
    /// a line, or a bulk payload under 64 KiB or of an error or verbatim string. When the
    /// buffer is full, the undecoded bytes move to its start if they fill at most half of
    /// it, else it doubles; so a byte is moved a bounded number of times, not once per read.
    /// While a large bulk payload arrives the buffer is made ``maxReadSize`` long, so each
    /// read takes a large piece of it.
    private func ensureRoom() {
        let waitsForLargePayload = (decoder.bytesNeeded ?? 0) > readCapacity && readCapacity < Self.maxReadSize
        guard readEnd == readCapacity || waitsForLargePayload else { return }
        let live = readEnd - readStart
        let wanted = max(live * 2, live + Self.readBufferSize, waitsForLargePayload ? Self.maxReadSize : 0)
        if wanted <= readCapacity {
            // At most half the buffer is live, and the next reads fill at least the other half
            // before this runs again.
            memmove(readBuffer, readBuffer + readStart, live)
        } else {
            let capacity = max(wanted, readCapacity * 2)
            let grown = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
            grown.copyMemory(from: readBuffer + readStart, byteCount: live)
            readBuffer.deallocate()
            readBuffer = grown
            readCapacity = capacity
        }
        readStart = 0
        readEnd = live
    }

    /// Replaces the (empty) read buffer by one of `capacity` bytes.
    private func resizeReadBuffer(to capacity: Int) {
        readBuffer.deallocate()
        readBuffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        readCapacity = capacity
    }

    /// Fails the command whose reply is too large and closes the connection: the rest of the
    /// stream cannot be found without reading the whole reply.
    private func failReplyTooLarge(atLeast size: Int) {
        decoder.reset()
        deliverDecoded()
        fail(
            RedisError(
                code: .replyTooLarge, delivery: .replied, node: endpoint.description,
                message: "reply from \(endpoint.description) is at least \(size) bytes, over the limit of \(maxReplyBytes) bytes; "
                    + "raise pool.maxReplyBytes in cluster.json (ConnectionOptions.maxReplyBytes) to accept it"))
    }

    private func deliverDecoded() {
        guard !decoded.isEmpty else { return }
        let unexpected: RESPValue? = state.withLock { state in
            for value in decoded {
                guard let entry = state.pending.removeFirst() else { return value }
                resolved.append((entry.sink, value))
            }
            return nil
        }
        inFlightCount.subtract(resolved.count, ordering: .relaxed)
        repliesRead &+= UInt64(resolved.count)
        decoded.removeAll(keepingCapacity: true)
        for (sink, value) in resolved { sink.deliver(value) }
        resolved.removeAll(keepingCapacity: true)
        if let unexpected {
            // A server that refuses a new client (`ERR max number of clients reached`) says
            // so before any command: keep its words.
            let detail = unexpected.errorMessage.map { ": \($0)" } ?? ""
            fail(closed(code: .protocolError, "server sent a reply to no command\(detail)"))
        }
    }

    /// Fails the callers whose deadlines passed, each alone (a caller's deadline may be
    /// shorter than the command timeout: the time its call had left); drops the connection
    /// only when the oldest command is past its deadline and no reply at all came for the
    /// command timeout (the node is stuck or the stream is lost), so that one impatient caller
    /// at the head of the pipeline does not take every other caller's command down with it.
    func tick(now: UInt64) {
        var expired: [ReplySink] = []
        // Commands outstanding, and whether the oldest has waited its whole time.
        let (outstanding, headOverdue): (Bool, Bool) = state.withLock { state in
            guard let head = state.pending.first else { return (false, false) }
            guard head.deadline <= now || state.deadlinesOutOfOrder else { return (true, false) }
            // In deadline order the expired ones are a prefix; otherwise every entry is looked at.
            let inOrder = !state.deadlinesOutOfOrder
            state.pending.mutatePrefix { entry in
                guard entry.deadline <= now else { return !inOrder }
                if case .discard = entry.sink { return true }
                expired.append(entry.sink)
                entry.sink = .discard
                return true
            }
            return (true, head.deadline <= now)
        }
        // Outcome unknown even for a command not written yet: its bytes are queued and go out.
        for sink in expired {
            sink.fail(
                RedisError(
                    code: .timeout, delivery: .unknown, node: endpoint.description,
                    message: "no reply within the command timeout"))
        }
        if !outstanding || repliesRead != progressSeen {
            progressSeen = repliesRead
            progressAt = now
        } else if headOverdue && now &- progressAt >= stuckAfter {
            // Replies come in order: nothing answered for the command timeout means the node
            // is stuck or the stream is lost, so the connection is dropped and replaced.
            fail(closed(code: .timeout, "no reply within the command timeout"), expiredBefore: now)
        }
    }

    /// Fails every waiting caller and closes the socket. Loop thread only; idempotent.
    func fail(_ reason: RedisError, expiredBefore now: UInt64 = 0) {
        let entries: [Pending]? = state.withLock { state in
            guard state.closeReason == nil else { return nil }
            state.closeReason = reason
            state.output.removeAll()
            state.unwritten = 0
            return state.pending.removeAll()
        }
        guard let entries else { return }
        // A reply too large belongs to the oldest command; the ones after it lose their
        // connection because of it.
        var oversizedReplyOwner = reason.code == .replyTooLarge
        closedFlag.store(true, ordering: .releasing)
        inFlightCount.store(0, ordering: .relaxed)
        loop.deregister(fd: fd)
        loop.removeFlushable(self)
        Glibc.close(fd)
        for entry in entries {
            if oversizedReplyOwner {
                oversizedReplyOwner = false
                entry.sink.fail(reason)
            } else if entry.start >= bytesWritten {
                entry.sink.fail(
                    RedisError(
                        code: reason.code == .poolClosed ? .poolClosed : .connectionClosed, delivery: .notSent,
                        node: endpoint.description, message: "\(reason.message) before the command was sent"))
            } else if reason.code == .timeout && entry.deadline > now {
                entry.sink.fail(
                    RedisError(
                        code: .connectionClosed, delivery: .unknown, node: endpoint.description,
                        message: "connection dropped after an earlier command timed out"))
            } else if reason.code == .replyTooLarge {
                entry.sink.fail(
                    RedisError(
                        code: .connectionClosed, delivery: .unknown, node: endpoint.description,
                        message: "connection closed after an earlier reply was too large: \(reason.message)"))
            } else {
                entry.sink.fail(
                    RedisError(
                        code: reason.code, delivery: .unknown, node: endpoint.description, message: reason.message))
            }
        }
        onClose?(self)
    }

    private func closed(code: RedisError.Code, _ message: String) -> RedisError {
        RedisError(code: code, delivery: .unknown, node: endpoint.description, message: message)
    }

    static func describe(errno code: Int32) -> String {
        String(cString: strerror(code))
    }
}
