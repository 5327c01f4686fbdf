/// Network timeouts (`timeouts` in cluster.json).
public struct TimeoutSettings: Sendable, Hashable {
    /// Limit for opening a TCP connection including AUTH/SELECT (`connectMs`, default 1000 ms).
    public var connect: Duration
    /// Default limit for one command's reply (`commandMs`, default 1000 ms). The layers
    /// above check the settings they own against it (the sale layer's deadlines and `WAIT`).
    public var command: Duration

    /// The defaults used when cluster.json has no `timeouts` section.
    public static let defaults = TimeoutSettings()

    /// Creates timeout settings; every parameter defaults to the documented value.
    ///
    /// - Parameters:
    ///   - connect: Connect timeout.
    ///   - command: Command timeout.
    public init(connect: Duration = .milliseconds(1000), command: Duration = .milliseconds(1000)) {
        self.connect = connect
        self.command = command
    }
}
