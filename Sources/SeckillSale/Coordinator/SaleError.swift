public import SeckillTransport

/// Why a sale call failed, with a message a person can act on.
public struct SaleError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, for matching in code.
    public struct Code: Hashable, Sendable {
        private enum Base: Hashable, Sendable { case invalidInput, hasSales, redis, outcomeUnknown, unexpectedReply, requestLog }
        private let base: Base
        private init(_ base: Base) { self.base = base }
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
        /// A request log (``RequestLog``) could not be opened, read or written; an attempt
        /// whose line could not be written was not sent.
        public static let requestLog = Code(.requestLog)
    }

    /// What went wrong.
    public let code: Code
    /// The explanation.
    public let message: String
    /// The Redis failure behind ``Code/redis`` and ``Code/outcomeUnknown``.
    public let redis: RedisError?

    init(code: Code, message: String, redis: RedisError? = nil) {
        self.code = code
        self.message = message
        self.redis = redis
    }

    static func invalidInput(_ message: String) -> SaleError { SaleError(code: .invalidInput, message: message) }

    public var description: String { message }
}
