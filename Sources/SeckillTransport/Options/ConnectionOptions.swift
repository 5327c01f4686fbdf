/// How each connection to a node is opened and how long a command may wait for its reply.
public struct ConnectionOptions: Sendable, Hashable {
    /// Time allowed for the TCP connect and the AUTH / SELECT handshake. Default 1 s.
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

    /// Creates options with the documented defaults.
    public init(
        connectTimeout: Duration = .seconds(1),
        commandTimeout: Duration = .seconds(1),
        username: String? = nil,
        password: String? = nil,
        database: Int = 0,
        clientName: String? = "seckill"
    ) {
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.username = username
        self.password = password
        self.database = database
        self.clientName = clientName
    }
}
