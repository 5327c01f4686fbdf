/// A failure talking to one Redis node, classified by what the caller may safely do next.
///
/// Three families matter for a flash sale:
/// - the server answered with an error reply (``isServerError``; ``serverCode`` holds
///   `NOSCRIPT`, `MOVED`, `ASK`, `TRYAGAIN`, ...);
/// - the command was certainly not sent (``delivery`` is ``Delivery/notSent``): retrying
///   cannot run it twice;
/// - the command was written but no reply came (``delivery`` is ``Delivery/unknown``): it may
///   or may not have run. Such a call must never be retried blindly; only an idempotent
///   command (a purchase carrying its request id) may be sent again.
public struct RedisError: Error, Sendable, CustomStringConvertible {
    /// Whether the command reached the server.
    public enum Delivery: Sendable, Hashable {
        /// The command was never written to the socket: safe to retry.
        case notSent
        /// The command was written and no reply arrived: it may have run.
        case unknown
        /// The server replied (with an error): the reply says what happened.
        case replied
    }

    /// What went wrong, for matching in code: `error.code == .overloaded`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case serverError, connectFailed, authenticationFailed, overloaded
            case timeout, connectionClosed, protocolError, poolClosed, cancelled, replyTooLarge
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The server answered with an error reply.
        public static let serverError = Code(.serverError)
        /// The TCP connection could not be made (refused, unreachable, connect timeout).
        public static let connectFailed = Code(.connectFailed)
        /// AUTH or SELECT was refused during the handshake.
        public static let authenticationFailed = Code(.authenticationFailed)
        /// The node already has its maximum of commands in flight and the wait timed out.
        public static let overloaded = Code(.overloaded)
        /// No reply within the command timeout.
        public static let timeout = Code(.timeout)
        /// The connection broke (reset, closed by the server).
        public static let connectionClosed = Code(.connectionClosed)
        /// The server sent bytes that are not valid RESP, or more replies than commands.
        public static let protocolError = Code(.protocolError)
        /// The pool was closed by its owner.
        public static let poolClosed = Code(.poolClosed)
        /// The calling task was cancelled before the command was sent.
        public static let cancelled = Code(.cancelled)
        /// The reply was larger than ``ConnectionOptions/maxReplyBytes``: the command ran, its
        /// reply was not read, and the connection was closed.
        public static let replyTooLarge = Code(.replyTooLarge)

        public var description: String {
            switch base {
            case .serverError: "server error"
            case .connectFailed: "connect failed"
            case .authenticationFailed: "authentication failed"
            case .overloaded: "overloaded"
            case .timeout: "timeout"
            case .connectionClosed: "connection closed"
            case .protocolError: "protocol error"
            case .poolClosed: "pool closed"
            case .cancelled: "cancelled"
            case .replyTooLarge: "reply too large"
            }
        }
    }

    /// What went wrong.
    public let code: Code
    /// Whether the command reached the server.
    public let delivery: Delivery
    /// The node, as `name (host:port)` or `host:port`.
    public var node: String { text.node }
    /// The first word of a server error reply (`NOSCRIPT`, `MOVED`, `WRONGPASS`, ...), if any.
    public var serverCode: String? { text.serverCode }
    /// The detail: the server's message, or the system's reason.
    public var message: String { text.message }

    /// The texts, boxed: an error is two words, so the slot every throwing call keeps for it
    /// in a waiting caller's frame is small.
    private let text: Text

    private final class Text: Sendable {
        let node: String
        let serverCode: String?
        let message: String

        init(node: String, serverCode: String?, message: String) {
            self.node = node
            self.serverCode = serverCode
            self.message = message
        }
    }

    /// Creates an error. Prefer the static constructors.
    public init(code: Code, delivery: Delivery, node: String, serverCode: String? = nil, message: String) {
        self.code = code
        self.delivery = delivery
        self.text = Text(node: node, serverCode: serverCode, message: message)
    }

    /// An error reply from the server; `line` is the reply text after `-`.
    public static func server(_ line: String, node: String) -> RedisError {
        RedisError(code: .serverError, delivery: .replied, node: node, serverCode: serverCode(of: line), message: line)
    }

    /// The code an error reply starts with (`MOVED`, `NOSCRIPT`, `ERR`), nil when its first
    /// word is not one (all capitals and underscores).
    public static func serverCode(of line: String) -> String? {
        let code = line.prefix { $0 != " " }
        let isCode = !code.isEmpty && code.allSatisfy { $0.isUppercase || $0 == "_" }
        return isCode ? String(code) : nil
    }

    /// True for an error reply from the server.
    public var isServerError: Bool { code == .serverError }

    /// True when the command was not executed, so sending it again cannot apply it twice:
    /// it was never sent, or the server refused it without running it (`MOVED`, `ASK`,
    /// `TRYAGAIN`, `CLUSTERDOWN`, `LOADING`, `MASTERDOWN`, `NOSCRIPT`, `READONLY`, `BUSY`).
    public var commandDidNotRun: Bool {
        switch delivery {
        case .notSent: return true
        case .unknown: return false
        case .replied: return serverCode.map(Self.didNotRunCodes.contains) ?? false
        }
    }

    /// True when the command may have run: never retry it unless it is idempotent.
    public var outcomeUnknown: Bool { delivery == .unknown }

    private static let didNotRunCodes: Set<String> = [
        "MOVED", "ASK", "TRYAGAIN", "CLUSTERDOWN", "LOADING", "MASTERDOWN", "NOSCRIPT", "READONLY", "BUSY",
    ]

    public var description: String {
        switch delivery {
        case .replied:
            return "\(node): \(message)"
        case .notSent:
            return "\(node): \(code): \(message) (not sent, safe to retry)"
        case .unknown:
            return "\(node): \(code): \(message) (outcome unknown: the command may have run)"
        }
    }
}
