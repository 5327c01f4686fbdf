public import Foundation
import Synchronization

/// A real redis-server process started by a test on a free loopback port.
///
/// Tests never mock Redis: each suite starts the servers it needs, stops and restarts them
/// to inject faults, and stops them when done. When `SECKILL_TEST_RUN_DIR` is set (by
/// scripts/test.sh) the pid of every server is written there, so the script can stop
/// leftovers even if a test process crashes.
public final class RedisServer: @unchecked Sendable {
    // @unchecked: the mutable process handle is only touched under `lock`.

    /// Why a server could not be started.
    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The port the server listens on (127.0.0.1, and ::1 when `ipv6` was asked).
    public let port: Int
    /// The extra configuration the server was started with.
    public let arguments: [String]
    /// A private directory for the server's files.
    public let directory: URL

    private let lock = NSLock()
    private var process: ChildProcess?

    /// Starts a server and waits until it answers.
    ///
    /// - Parameters:
    ///   - password: sets `requirepass`.
    ///   - cluster: starts with `--cluster-enabled yes`.
    ///   - ipv6: also binds ::1.
    ///   - arguments: more `--option value` pairs.
    public init(password: String? = nil, cluster: Bool = false, ipv6: Bool = false, arguments: [String] = []) throws {
        var args = arguments
        if let password { args += ["--requirepass", password] }
        if cluster { args += ["--cluster-enabled", "yes", "--cluster-node-timeout", "2000"] }
        args += ["--bind", ipv6 ? "127.0.0.1 ::1" : "127.0.0.1"]
        self.arguments = args
        self.directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("seckill-redis-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var started: (port: Int, process: ChildProcess)?
        var lastError: (any Error)?
        for _ in 0..<5 {
            do {
                let candidate = try Self.freePort()
                started = (candidate, try Self.launch(port: candidate, directory: directory, arguments: args))
                break
            } catch {
                lastError = error
            }
        }
        guard let started else { throw lastError! }
        self.port = started.port
        self.process = started.process
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// The path of redis-server; tests fail (never skip) when it is missing.
    public static func executable() throws -> String {
        for path in ["/usr/bin/redis-server", "/usr/local/bin/redis-server"] where FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        throw StartError(description: "redis-server is not installed: run scripts/test.sh, which installs it with apt-get")
    }

    /// Stops the server (SIGKILL when `hard`, else SIGTERM) and waits for it to exit.
    public func stop(hard: Bool = false) {
        lock.lock()
        let running = process
        process = nil
        lock.unlock()
        guard let running else { return }
        // A server left paused would never act on SIGTERM.
        kill(running.pid, SIGCONT)
        running.stop(signal: hard ? SIGKILL : SIGTERM)
        Self.removePidFile(running.pid)
    }

    /// Freezes the server (SIGSTOP): it keeps its connections but answers nothing, and a
    /// replica stops acknowledging its primary. ``resume()`` continues it.
    public func pause() {
        signal(SIGSTOP)
    }

    /// Continues a server frozen by ``pause()`` (SIGCONT).
    public func resume() {
        signal(SIGCONT)
    }

    private func signal(_ number: Int32) {
        lock.lock()
        let pid = process?.pid
        lock.unlock()
        if let pid { kill(pid, number) }
    }

    /// Starts the server again on the same port after ``stop(hard:)``.
    public func restart() throws {
        stop()
        var lastError: (any Error)?
        // The port can stay in TIME_WAIT for a moment; redis-server uses SO_REUSEADDR, so a
        // few quick retries are enough.
        for _ in 0..<20 {
            do {
                let process = try Self.launch(port: port, directory: directory, arguments: arguments)
                lock.lock()
                self.process = process
                lock.unlock()
                return
            } catch {
                lastError = error
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        throw lastError!
    }

    /// True while the process runs.
    public var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        return process?.isRunning() ?? false
    }

    /// Runs `redis-cli -p PORT args...` and returns its standard output.
    @discardableResult
    public func cli(_ args: String...) throws -> String {
        try RedisServer.run("/usr/bin/redis-cli", ["-p", String(port)] + args)
    }

    private static func launch(port: Int, directory: URL, arguments: [String]) throws -> ChildProcess {
        let log = directory.appendingPathComponent("redis.log").path
        let child = try ChildProcess.spawn(
            try executable(),
            [
                "--port", String(port), "--save", "", "--appendonly", "no", "--daemonize", "no",
                "--dir", directory.path, "--logfile", log, "--protected-mode", "no",
            ] + arguments)
        writePidFile(child.pid)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if !child.isRunning() {
                removePidFile(child.pid)
                let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                throw StartError(description: "redis-server on port \(port) exited: \(text.suffix(400))")
            }
            if accepts(port: port) {
                // Someone else may have been listening there; a server that lost the race
                // for the port exits at once, so make sure ours is still up.
                Thread.sleep(forTimeInterval: 0.05)
                if child.isRunning() { return child }
                continue
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        child.stop(signal: SIGKILL)
        removePidFile(child.pid)
        throw StartError(description: "redis-server on port \(port) did not start within 10 s")
    }

    private static func writePidFile(_ pid: Int32) {
        guard let dir = ProcessInfo.processInfo.environment["SECKILL_TEST_RUN_DIR"] else { return }
        try? String(pid).write(toFile: "\(dir)/redis-\(pid).pid", atomically: true, encoding: .utf8)
    }

    private static func removePidFile(_ pid: Int32) {
        guard let dir = ProcessInfo.processInfo.environment["SECKILL_TEST_RUN_DIR"] else { return }
        try? FileManager.default.removeItem(atPath: "\(dir)/redis-\(pid).pid")
    }

    private static let handedOut = Locked<Set<Int>>([])

    /// A loopback TCP port nobody listens on right now.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw StartError(description: "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw StartError(description: "bind() failed") }
        let port = Int(UInt16(bigEndian: address.sin_port))
        // Keep clear of the ports the shipped cluster.json and scripts/cluster.sh use, and
        // never hand the same port to two servers of this process (suites start servers
        // concurrently, and a port is only known free until someone binds it).
        // Ports above 55535 cannot be used by cluster nodes (their bus port is port + 10000).
        if port > 55535 || (7000...7010).contains(port) || (7100...7120).contains(port) || !handedOut.withLock({ $0.insert(port).inserted })
        {
            return try freePort()
        }
        return port
    }

    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// Runs a program and returns its standard output; throws when it exits non-zero.
    @discardableResult
    public static func run(_ path: String, _ arguments: [String]) throws -> String {
        let (status, output) = try ChildProcess.run(path, arguments)
        guard status == 0 else {
            throw StartError(description: "\(path) \(arguments.joined(separator: " ")) failed (\(status)): \(output)")
        }
        return output
    }
}
