/// A failure of the order hand-off: a database that cannot be opened or written, a stream
/// that cannot be read, an entry that is not an order event.
public struct OrderError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure.
    public enum Code: Sendable, Hashable {
        /// The database refused an operation (open, schema, write).
        case database
        /// Redis could not be read or written.
        case redis
        /// A stream entry is not a well-formed order event (a poison entry).
        case malformedEntry
        /// An argument the caller passed is invalid.
        case invalidInput
    }

    /// What kind of failure.
    public let code: Code
    /// One line a person can act on.
    public let message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }

    static func database(_ message: String) -> OrderError { OrderError(.database, message) }
    static func malformed(_ message: String) -> OrderError { OrderError(.malformedEntry, message) }
}
