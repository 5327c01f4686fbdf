public import SeckillTransport

/// Why a sale call failed, with a message a person can act on.
public struct SaleError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, for matching in code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case invalidInput, hasSales, redis, outcomeUnknown, unexpectedReply, outOfMemory, unsafeNode, requestLog
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The code's name: `invalidInput`, `outcomeUnknown`, `outOfMemory`, ...
        public var description: String { "\(base)" }
        /// An id or number was refused before any Redis call.
        public static let invalidInput = Code(.invalidInput)
        /// `publish` would reset an item that already has sales; pass `replace: true`.
        public static let hasSales = Code(.hasSales)
        /// Redis failed in a way retrying could not fix (see ``SaleError/redis``).
        public static let redis = Code(.redis)
        /// The call may or may not have been applied and the deadline ran out before the
        /// request id could tell; call again with the same request id to learn the answer.
        public static let outcomeUnknown = Code(.outcomeUnknown)
        /// A script answered something this version does not understand.
        public static let unexpectedReply = Code(.unexpectedReply)
        /// The node is at its `maxmemory` under `noeviction` and refused the write: nothing was
        /// applied. Free memory or raise `maxmemory`; retrying at once will fail the same way.
        public static let outOfMemory = Code(.outOfMemory)
        /// A node is configured in a way that can lose sale state (a `maxmemory-policy` other
        /// than `noeviction`); the message names the node, the setting and the fix.
        public static let unsafeNode = Code(.unsafeNode)
        /// A request log (``RequestLog``) could not be opened, read or written; an attempt
        /// whose line could not be written was not sent.
        public static let requestLog = Code(.requestLog)
    }

    /// What went wrong.
    public let code: Code
    /// The explanation.
    public let message: String
    /// The Redis failure behind ``Code/redis`` and ``Code/outcomeUnknown``.
    public var redis: RedisError? { details?.redis }
    /// The request id the call was sent with (the caller's, or the one made for it), for
    /// purchases and restocks. After ``Code/outcomeUnknown`` call again with this id: it
    /// returns the first attempt's purchase if there was one and never buys twice.
    public var requestID: String? { details?.requestID }

    /// The Redis failure and request id, boxed: an error is three words, so the slot every
    /// typed-throwing call keeps for it in a waiting caller's frame is small.
    private let details: Details?

    private final class Details: Sendable {
        let redis: RedisError?
        let requestID: String?

        init(redis: RedisError?, requestID: String?) {
            self.redis = redis
            self.requestID = requestID
        }
    }

    init(code: Code, message: String, redis: RedisError? = nil, requestID: String? = nil) {
        self.code = code
        self.message = message
        self.details = redis == nil && requestID == nil ? nil : Details(redis: redis, requestID: requestID)
    }

    static func invalidInput(_ message: String) -> SaleError { SaleError(code: .invalidInput, message: message) }

    public var description: String { message }
}
