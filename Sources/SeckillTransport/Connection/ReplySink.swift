internal import SeckillRESP

/// Where the reply to one queued command goes.
enum ReplySink {
    /// A caller waiting for exactly this reply.
    case single(UnsafeContinuation<RESPValue, any Error>)
    /// One command of a caller's pipelined batch.
    case batch(BatchCollector, index: Int)
    /// The caller gave up (timeout): the reply is read and dropped to keep the order.
    case discard
}

/// Gathers the replies of a batch sent in one go and resumes its caller once.
///
/// Only touched on the event loop thread (replies, failures and timeouts are all resolved
/// there), so it needs no lock.
final class BatchCollector: @unchecked Sendable {
    // @unchecked: only the event loop thread reads or writes it (see above).
    private var values: [RESPValue]
    private var remaining: Int
    private var continuation: UnsafeContinuation<[RESPValue], any Error>?

    init(count: Int, continuation: UnsafeContinuation<[RESPValue], any Error>) {
        values = Array(repeating: .nullBulkString, count: count)
        remaining = count
        self.continuation = continuation
    }

    func deliver(_ value: RESPValue, at index: Int) {
        guard continuation != nil else { return }
        values[index] = value
        remaining -= 1
        if remaining == 0 {
            continuation?.resume(returning: values)
            continuation = nil
            values = []
        }
    }

    func fail(_ error: any Error) {
        continuation?.resume(throwing: error)
        continuation = nil
        values = []
    }
}

extension ReplySink {
    /// Hands `value` to the waiting caller. Loop thread only.
    func deliver(_ value: RESPValue) {
        switch self {
        case .single(let continuation): continuation.resume(returning: value)
        case .batch(let collector, let index): collector.deliver(value, at: index)
        case .discard: break
        }
    }

    /// Fails the waiting caller. Loop thread only.
    func fail(_ error: any Error) {
        switch self {
        case .single(let continuation): continuation.resume(throwing: error)
        case .batch(let collector, _): collector.fail(error)
        case .discard: break
        }
    }
}
