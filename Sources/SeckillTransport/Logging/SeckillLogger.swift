/// How much a log message matters, from the chattiest to the most serious.
public enum LogLevel: Int, Sendable, Hashable, Comparable, CaseIterable, CustomStringConvertible {
    /// Every step, for following one call.
    case trace
    /// Details useful when chasing a problem (a retry, a redirect).
    case debug
    /// Normal events worth a line (connects, topology changes, shedding start and end).
    case info
    /// Something went wrong and was handled (a lost connection, an overloaded node).
    case warning
    /// Something failed that a person should look at.
    case error

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `trace`, `debug`, `info`, `warning` or `error`.
    public var description: String {
        switch self {
        case .trace: "trace"
        case .debug: "debug"
        case .info: "info"
        case .warning: "warning"
        case .error: "error"
        }
    }

    /// The level named `name` (as ``description`` spells it), or nil.
    public init?(name: String) {
        guard let level = Self.allCases.first(where: { $0.description == name.lowercased() }) else { return nil }
        self = level
    }
}

/// Where log messages go: implement it to forward the library's messages to a service's own
/// logger (see the README for the ten lines that forward to swift-log).
public protocol SeckillLogHandler: Sendable {
    /// Records one message; called only for messages at or above the logger's level.
    ///
    /// - Parameters:
    ///   - level: How much it matters.
    ///   - message: What happened, one line.
    ///   - metadata: Key-value details (`node`, `item`, `code`, ...).
    func log(level: LogLevel, message: String, metadata: [String: String])
}

/// The library's logger: a handler and a minimum level. Off by default (``disabled``), and
/// then costs one comparison per call site: messages and metadata are built only when they
/// will be written.
public struct SeckillLogger: Sendable {
    /// Where messages go; nil writes nothing.
    public var handler: (any SeckillLogHandler)?
    /// Messages below this level are dropped before they are built.
    public var level: LogLevel

    /// Creates a logger writing messages at `level` and above to `handler`.
    public init(handler: (any SeckillLogHandler)?, level: LogLevel = .info) {
        self.handler = handler
        self.level = level
    }

    /// A logger that writes nothing, the default everywhere.
    public static let disabled = SeckillLogger(handler: nil, level: .error)

    /// Whether a message at `level` would be written.
    @inlinable
    public func isEnabled(_ level: LogLevel) -> Bool { handler != nil && level >= self.level }

    /// Writes `message` at `level` when enabled.
    ///
    /// - Parameters:
    ///   - level: How much it matters.
    ///   - message: Built only when written.
    ///   - metadata: Built only when written.
    @inlinable
    public func log(_ level: LogLevel, _ message: @autoclosure () -> String, _ metadata: @autoclosure () -> [String: String] = [:]) {
        guard let handler, level >= self.level else { return }
        handler.log(level: level, message: message(), metadata: metadata())
    }
}
