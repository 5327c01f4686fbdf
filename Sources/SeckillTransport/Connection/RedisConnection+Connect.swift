internal import CSeckillSys
internal import Glibc
internal import SeckillRESP

extension RedisConnection {
    /// Opens a connection: resolves the host, connects within the connect timeout, then runs
    /// the handshake (`AUTH`, `SELECT`, `CLIENT SETNAME`) pipelined in one write.
    ///
    /// - Parameters:
    ///   - endpoint: The node.
    ///   - options: Timeouts, credentials, database and reply limit.
    ///   - loop: The event loop that will do the connection's I/O.
    ///   - onClose: Called once on the loop thread when the connection fails or is closed;
    ///     installed before the connection is attached to the loop.
    /// - Throws: ``RedisError`` with code `authenticationFailed` when the server refused the
    ///   credentials or the database (retrying cannot help), or `connectFailed` (nothing was
    ///   sent, safe to retry) for everything else, including a server that is full
    ///   (`ERR max number of clients reached`), loading, busy or without its master.
    static func connect(
        to endpoint: RedisEndpoint, options: ConnectionOptions, loop: EventLoop,
        onClose: (@Sendable (RedisConnection) -> Void)? = nil
    ) async throws -> RedisConnection {
        let deadline = MonotonicClock.deadline(after: options.connectTimeout)
        let fd = try await openSocket(to: endpoint, deadline: deadline, loop: loop)
        let connection = RedisConnection(
            fd: fd, endpoint: endpoint, loop: loop, maxReplyBytes: options.maxReplyBytes, commandTimeout: options.commandTimeout,
            onClose: onClose)
        loop.execute { connection.attach() }

        var handshake: [RESPCommand] = []
        if let password = options.password {
            var auth = RESPCommand("AUTH")
            if let username = options.username { auth.append(username) }
            auth.append(password)
            handshake.append(auth)
        }
        if options.database != 0 {
            var select = RESPCommand("SELECT")
            select.append(options.database)
            handshake.append(select)
        }
        if let name = options.clientName {
            handshake.append(RESPCommand("CLIENT", "SETNAME", name))
        }
        guard !handshake.isEmpty else { return connection }

        let replies: [RESPValue]
        do {
            // Its own connect timeout, counted from when it is queued: the time the calling task
            // waited to run again after the socket connected (a busy process) is not the
            // node's, and the loop reads the reply whether or not the caller is running.
            replies = try await connection.send(handshake, deadline: MonotonicClock.deadline(after: options.connectTimeout))
        } catch let error as RedisError {
            connection.close(error)
            throw RedisError(
                code: .connectFailed, delivery: .notSent, node: endpoint.description,
                message: "handshake failed: \(error.message)")
        }
        for (command, reply) in zip(handshake, replies) {
            guard let message = reply.errorMessage else { continue }
            let refusesSettings = refusesSettings(message, command: command.name)
            let error = RedisError(
                code: refusesSettings ? .authenticationFailed : .connectFailed, delivery: .notSent,
                node: endpoint.description, serverCode: RedisError.server(message, node: "").serverCode,
                message: refusesSettings
                    ? "\(command.name) refused: \(message)"
                    : "\(command.name) refused during the handshake: \(message) (the node may accept a new connection later)")
            connection.close(error)
            throw error
        }
        return connection
    }

    /// Whether a handshake error reply refuses the configured credentials or database, which
    /// no retry can fix, rather than saying the server cannot take a client now
    /// (`ERR max number of clients reached`, `LOADING`, `BUSY`, `MASTERDOWN`, ...).
    ///
    /// - Parameters:
    ///   - message: The error reply, without its `-`.
    ///   - command: The handshake command it answers.
    static func refusesSettings(_ message: String, command: String) -> Bool {
        let code = message.prefix { $0 != " " }
        if code == "WRONGPASS" || code == "NOAUTH" || code == "NOPERM" { return true }
        guard code == "ERR" else { return false }
        let text = message.lowercased()
        switch command.uppercased() {
        case "AUTH":
            // `ERR invalid password`, `ERR invalid username-password pair`, and
            // `ERR AUTH <password> called without any password configured ...`.
            return text.contains("password") || text.contains("auth")
        case "SELECT":
            // `ERR DB index is out of range`, `ERR SELECT is not allowed in cluster mode`.
            return text.contains("db index") || text.contains("not allowed")
        default:
            return false
        }
    }

    private static func openSocket(to endpoint: RedisEndpoint, deadline: UInt64, loop: EventLoop) async throws -> Int32 {
        guard (1...65535).contains(endpoint.port) else {
            throw connectError(endpoint, "port \(endpoint.port) is out of range 1-65535")
        }
        var host = endpoint.host
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let addresses = try resolve(host, endpoint: endpoint)
        var lastProblem = "no address for \(host)"
        for address in addresses {
            let family = csk_literal_family(address) == 6 ? csk_af_inet6() : csk_af_inet()
            let fd = csk_tcp_socket(family)
            if fd < 0 {
                lastProblem = "socket: \(describe(errno: errno))"
                continue
            }
            let result = csk_connect_literal(fd, family, address, UInt16(endpoint.port))
            let code = errno
            if result == 0 { return fd }
            if result == -1 && code == EINPROGRESS {
                let problem = await ConnectWaiter.waitWritable(fd: fd, deadline: deadline, loop: loop)
                if let problem {
                    Glibc.close(fd)
                    lastProblem = problem
                    if MonotonicClock.now() >= deadline { break }
                    continue
                }
                let socketError = csk_socket_error(fd)
                if socketError == 0 { return fd }
                lastProblem = describe(errno: socketError)
            } else {
                lastProblem = describe(errno: code)
            }
            Glibc.close(fd)
        }
        throw connectError(endpoint, lastProblem)
    }

    private static func resolve(_ host: String, endpoint: RedisEndpoint) throws -> [String] {
        if host.isEmpty { throw connectError(endpoint, "empty host") }
        if csk_literal_family(host) != 0 { return [host] }
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBufferPointer { csk_resolve(host, $0.baseAddress, $0.count) }
        if count < 0 {
            throw connectError(endpoint, "cannot resolve \(host): \(String(cString: csk_resolve_error(count)))")
        }
        let text = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let addresses = text.split(separator: "\n").map(String.init)
        if addresses.isEmpty { throw connectError(endpoint, "cannot resolve \(host): no addresses") }
        return addresses
    }

    private static func connectError(_ endpoint: RedisEndpoint, _ problem: String) -> RedisError {
        RedisError(code: .connectFailed, delivery: .notSent, node: endpoint.description, message: problem)
    }
}

/// Waits on the event loop for a connecting socket to become writable, or its deadline.
final class ConnectWaiter: EventLoopHandler, @unchecked Sendable {
    // @unchecked: created on a caller's thread, then used only on the loop thread.
    private let fd: Int32
    private let deadline: UInt64
    private let loop: EventLoop
    private var continuation: UnsafeContinuation<String?, Never>?

    private init(fd: Int32, deadline: UInt64, loop: EventLoop, continuation: UnsafeContinuation<String?, Never>) {
        self.fd = fd
        self.deadline = deadline
        self.loop = loop
        self.continuation = continuation
    }

    /// Returns nil once writable, or why not.
    static func waitWritable(fd: Int32, deadline: UInt64, loop: EventLoop) async -> String? {
        await withUnsafeContinuation { continuation in
            let waiter = ConnectWaiter(fd: fd, deadline: deadline, loop: loop, continuation: continuation)
            loop.execute { loop.register(fd: fd, handler: waiter, writable: true) }
        }
    }

    func handleEvents(readable: Bool, writable: Bool, failed: Bool) {
        finish(nil)
    }

    func tick(now: UInt64) {
        if now >= deadline { finish("connect timed out") }
    }

    private func finish(_ problem: String?) {
        guard let continuation else { return }
        self.continuation = nil
        loop.deregister(fd: fd)
        continuation.resume(returning: problem)
    }
}
