/// How each connection to a node is opened and how long a command may wait for its reply.
public struct ConnectionOptions: Sendable, Hashable {
    /// Time allowed for the TCP connect, and again for the AUTH / SELECT handshake (counted from
    /// when it is queued). Default 1 s.
    public var connectTimeout: Duration
    /// Time allowed between writing a command and its reply. Default 1 s.
    public var commandTimeout: Duration
    /// The ACL user for `AUTH user password`; nil sends `AUTH password`.
    public var username: String?
    /// The password; nil sends no AUTH. Never read from a config file: the caller takes it
    /// from the environment variable the config names.
    public var password: String?
    /// The database for `SELECT`; 0 sends none.
    public var database: Int
    /// Sent as `CLIENT SETNAME`, so operators can see the coordinator's connections; nil sends none.
    public var clientName: String?
    /// The largest reply accepted, in bytes: a bulk string announcing more, or any reply
    /// whose bytes grow past it while it arrives. Default 64 MiB (``defaultMaxReplyBytes``).
    ///
    /// Such a reply fails its command with ``RedisError/Code/replyTooLarge`` and closes the
    /// connection (the rest of the stream cannot be found without reading the reply), so
    /// one huge value cannot make the client buffer without bound. Other connections are
    /// not affected; the pool opens a new one for the next command.
    public var maxReplyBytes: Int

    /// The default ``maxReplyBytes``: 64 MiB, far above anything a flash sale reads and
    /// small enough that a mistaken `GET` of a huge value fails instead of buffering it.
    public static let defaultMaxReplyBytes = 64 * 1024 * 1024

    /// Creates options with the documented defaults.
    ///
    /// - Parameters:
    ///   - connectTimeout: Time allowed for the TCP connect, and again for the handshake.
    ///   - commandTimeout: Time allowed between writing a command and its reply.
    ///   - username: The ACL user for AUTH, or nil.
    ///   - password: The password for AUTH, or nil for no AUTH.
    ///   - database: The database to SELECT; 0 sends none.
    ///   - clientName: The name for CLIENT SETNAME, or nil.
    ///   - maxReplyBytes: The largest reply accepted, in bytes; at least 1.
    public init(
        connectTimeout: Duration = .seconds(1),
        commandTimeout: Duration = .seconds(1),
        username: String? = nil,
        password: String? = nil,
        database: Int = 0,
        clientName: String? = "seckill",
        maxReplyBytes: Int = ConnectionOptions.defaultMaxReplyBytes
    ) {
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.username = username
        self.password = password
        self.database = database
        self.clientName = clientName
        self.maxReplyBytes = max(1, maxReplyBytes)
    }
}
