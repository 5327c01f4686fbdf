import Foundation
import Synchronization

/// A TCP proxy on a free 127.0.0.1 port that forwards to a local server and injects the
/// network faults a Redis client must survive: a request lost on the way in, a reply lost on
/// the way back, a reply that comes too late.
///
/// Each accepted client gets its own connection to the upstream port and two blocking pump
/// threads (client to server, server to client). An armed fault fires on the next chunk of
/// bytes going its way, on whichever connection carries it (or on the next few, when armed
/// for several shots); then the proxy goes back to forwarding. Stopping (or releasing) the proxy closes the listener and every
/// connection and waits for every thread to end.
public final class FaultProxy: Sendable {
    /// The fault to inject next.
    public enum Fault: Sendable, Hashable {
        /// Read the next request from a client and close that connection without forwarding
        /// it: the server never runs the command, the client cannot know.
        case dropNextRequest
        /// Let the server run the next command, then close that connection instead of
        /// forwarding the reply: the command ran, the client cannot know.
        case dropNextReply
        /// Hold the next reply for a while before forwarding it (to exceed a command timeout).
        case delayNextReply(Duration)
    }

    /// The port clients connect to.
    public let port: Int
    /// The port the proxy forwards to.
    public let upstreamPort: Int

    private let listener: Int32
    private let state = Mutex(State())
    private let threads = DispatchGroup()

    private struct State {
        var fault: Fault?
        var shots = 0
        var stopped = false
        var connections: [Int: Pair] = [:]
        var nextConnection = 0
        var accepted = 0
        var dropped = 0
        var delayed = 0
    }

    /// Starts listening and forwarding to `upstreamPort` on 127.0.0.1.
    ///
    /// - Throws: ``RedisServer/StartError`` when no listening socket could be opened.
    public init(upstreamPort: Int) throws {
        self.upstreamPort = upstreamPort
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RedisServer.StartError(description: "proxy socket() failed: \(String(cString: strerror(errno)))") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        // A port below the ephemeral range: `RedisServer.freePort()` draws from that range and
        // takes any listener on its port for the server it started, so the proxy keeps out.
        var bound: Int?
        for _ in 0..<200 {
            let candidate = Int.random(in: 20_000..<32_000)
            var address = Self.loopback(port: candidate)
            let ok = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            if ok {
                bound = candidate
                break
            }
        }
        guard let bound, listen(fd, 64) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw RedisServer.StartError(description: "proxy bind/listen failed: \(reason)")
        }
        self.listener = fd
        self.port = bound
        threads.enter()
        Thread { [self] in
            acceptLoop()
            threads.leave()
        }.start()
    }

    deinit { stop() }

    /// Arms `fault`; it fires on the next `times` chunks of bytes going its way (once by
    /// default), each on whichever connection carries them.
    public func arm(_ fault: Fault, times: Int = 1) {
        state.withLock { state in
            state.fault = times > 0 ? fault : nil
            state.shots = times
        }
    }

    /// Disarms any fault that has not fired yet.
    public func disarm() { arm(.dropNextReply, times: 0) }

    /// True while an armed fault has not fired yet.
    public var isArmed: Bool { state.withLock { $0.fault != nil } }

    /// Client connections accepted so far.
    public var accepted: Int { state.withLock { $0.accepted } }

    /// Connections closed by a drop fault so far.
    public var dropped: Int { state.withLock { $0.dropped } }

    /// Replies held back by a delay fault so far.
    public var delayed: Int { state.withLock { $0.delayed } }

    /// Closes every open connection now, as a network failure would; new ones are accepted.
    public func severAll() {
        // Under the lock: a pair still registered has not closed its descriptors yet.
        state.withLock { state in
            for pair in state.connections.values { pair.shutDown() }
        }
    }

    /// Stops accepting, closes every connection and waits for the pump threads to end.
    public func stop() {
        let first: Bool = state.withLock { state in
            guard !state.stopped else { return false }
            state.stopped = true
            for pair in state.connections.values { pair.shutDown() }
            return true
        }
        guard first else { return }
        // shutdown wakes a thread blocked in accept(); the fd is closed once it has returned.
        shutdown(listener, Int32(SHUT_RDWR))
        threads.wait()
        close(listener)
    }

    // MARK: Threads

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            let upstream = Self.dial(port: upstreamPort)
            let registered: (id: Int, pair: Pair)? = state.withLock { state in
                guard !state.stopped, upstream >= 0 else { return nil }
                state.accepted += 1
                let id = state.nextConnection
                state.nextConnection += 1
                let pair = Pair(client: client, upstream: upstream)
                state.connections[id] = pair
                return (id, pair)
            }
            guard let (id, pair) = registered else {
                close(client)
                if upstream >= 0 { close(upstream) }
                continue
            }
            for direction in [Direction.request, .reply] {
                threads.enter()
                Thread { [self] in
                    pump(pair, direction)
                    state.withLock { state in
                        if pair.finishPump() { state.connections.removeValue(forKey: id) }
                    }
                    threads.leave()
                }.start()
            }
        }
    }

    private enum Direction { case request, reply }

    private func pump(_ pair: Pair, _ direction: Direction) {
        let from = direction == .request ? pair.client : pair.upstream
        let to = direction == .request ? pair.upstream : pair.client
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(from, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            switch takeFault(for: direction) {
            case .dropNextRequest?, .dropNextReply?:
                pair.shutDown()
                return
            case .delayNextReply(let delay)?:
                let (seconds, attoseconds) = delay.components
                Thread.sleep(forTimeInterval: Double(seconds) + Double(attoseconds) / 1e18)
            case nil:
                break
            }
            if !Self.writeAll(to, buffer[0..<count]) { break }
        }
        pair.shutDown()
    }

    private func takeFault(for direction: Direction) -> Fault? {
        state.withLock { state in
            guard let fault = state.fault else { return nil }
            switch (fault, direction) {
            case (.dropNextRequest, .request), (.dropNextReply, .reply):
                state.dropped += 1
            case (.delayNextReply, .reply):
                state.delayed += 1
            default:
                return nil
            }
            state.shots -= 1
            if state.shots <= 0 { state.fault = nil }
            return fault
        }
    }

    // MARK: Sockets

    private static func writeAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>) -> Bool {
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            let written = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return false }
            offset += written
        }
        return true
    }

    private static func dial(port: Int) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return -1 }
        var address = loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        if connected { return fd }
        close(fd)
        return -1
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}

/// One proxied connection: the client's socket and the proxy's socket to the server.
///
/// Either pump may shut both sockets down (which wakes the other pump from its blocking
/// read); the descriptors are closed only by the last pump to finish, under the proxy's lock
/// and together with removing the pair, so no thread ever touches a descriptor number that
/// was closed and reused.
private final class Pair: Sendable {
    let client: Int32
    let upstream: Int32
    private let running = Atomic<Int>(2)

    init(client: Int32, upstream: Int32) {
        self.client = client
        self.upstream = upstream
    }

    func shutDown() {
        shutdown(client, Int32(SHUT_RDWR))
        shutdown(upstream, Int32(SHUT_RDWR))
    }

    /// Called by each pump as it ends; returns true for the last one, which closed the sockets.
    func finishPump() -> Bool {
        guard running.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 else { return false }
        close(client)
        close(upstream)
        return true
    }
}
