import Foundation

/// A reply read by ``AdminConnection``.
public indirect enum AdminReply: Sendable, Hashable, CustomStringConvertible {
    /// `+OK` and other simple strings.
    case status(String)
    /// `-ERR ...`: an error reply, kept as a value.
    case error(String)
    /// `:42`
    case integer(Int)
    /// `$...`; nil for the null bulk string.
    case bulk(String?)
    /// `*...`; nil for the null array.
    case array([AdminReply]?)

    /// The text of a simple or bulk string.
    public var string: String? {
        switch self {
        case .status(let text): text
        case .bulk(let text): text
        default: nil
        }
    }

    /// The value of an integer reply.
    public var int: Int? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The elements of an array reply.
    public var array: [AdminReply]? {
        if case .array(let values) = self { return values }
        return nil
    }

    /// The message of an error reply.
    public var errorMessage: String? {
        if case .error(let message) = self { return message }
        return nil
    }

    public var description: String {
        switch self {
        case .status(let text): text
        case .error(let message): "(error) \(message)"
        case .integer(let value): String(value)
        case .bulk(let text): text.map { "\"\($0)\"" } ?? "(nil)"
        case .array(let values): values.map { "[" + $0.map(\.description).joined(separator: ", ") + "]" } ?? "(nil)"
        }
    }
}

/// Why an administrative command failed: the node could not be reached, or it answered
/// with an error or something unexpected.
public struct AdminError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public let description: String

    /// Creates an error with a message.
    public init(_ description: String) { self.description = description }
}

/// A blocking RESP2 client for the commands a test sends to manage servers (CLUSTER ...,
/// MIGRATE, INFO): one fresh connection per command, bounded by a timeout.
///
/// Spawning redis-cli for each of the hundreds of polls a cluster test makes would cost a
/// process each, and redis-cli exits 0 on error replies; this reads the reply's type.
/// Blocking: call it from a thread of its own (``RedisCluster`` does), never from a task of
/// the shared pool.
public enum AdminConnection {
    /// Sends `arguments` to 127.0.0.1:`port` and returns the reply (error replies included).
    ///
    /// - Parameters:
    ///   - port: The server's port.
    ///   - arguments: The command and its arguments.
    ///   - timeout: Seconds allowed for connecting, sending and reading the reply.
    /// - Throws: ``AdminError`` when the node cannot be reached or the reply is malformed.
    public static func command(port: Int, _ arguments: [String], timeout: Double = 10) throws -> AdminReply {
        try commands(port: port, [arguments], timeout: timeout)[0]
    }

    /// Sends several commands on one connection (a command like `WAIT` concerns the writes
    /// of its own connection) and returns their replies in order.
    ///
    /// - Throws: ``AdminError`` when the node cannot be reached or a reply is malformed.
    public static func commands(port: Int, _ commands: [[String]], timeout: Double = 10) throws -> [AdminReply] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw AdminError("socket() failed: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var limit = timeval()
        limit.tv_sec = .init(Int(timeout))
        limit.tv_usec = .init(Int((timeout - Double(Int(timeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else { throw AdminError("cannot connect to 127.0.0.1:\(port): \(String(cString: strerror(errno)))") }

        var request: [UInt8] = []
        for arguments in commands {
            request += Array("*\(arguments.count)\r\n".utf8)
            for argument in arguments {
                let bytes = Array(argument.utf8)
                request += Array("$\(bytes.count)\r\n".utf8) + bytes + [13, 10]
            }
        }
        let name = commands.first?.prefix(3).joined(separator: " ") ?? ""
        var offset = 0
        while offset < request.count {
            let written = request[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw AdminError("cannot send \(name) to 127.0.0.1:\(port): \(String(cString: strerror(errno)))") }
            offset += written
        }

        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            var parser = Parser(bytes: buffer)
            var replies: [AdminReply] = []
            while replies.count < commands.count, let reply = try parser.parse() { replies.append(reply) }
            if replies.count == commands.count { return replies }
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                let reason = count == 0 ? "connection closed" : String(cString: strerror(errno))
                throw AdminError("no reply to \(name) from 127.0.0.1:\(port): \(reason)")
            }
            buffer += chunk[0..<count]
        }
    }

    /// Reads one RESP2 value; nil while the input is incomplete.
    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func parse() throws -> AdminReply? {
            guard index < bytes.count else { return nil }
            let type = bytes[index]
            index += 1
            guard let line = readLine() else { return nil }
            switch type {
            case UInt8(ascii: "+"): return .status(line)
            case UInt8(ascii: "-"): return .error(line)
            case UInt8(ascii: ":"):
                guard let value = Int(line) else { throw AdminError("malformed integer reply \(line)") }
                return .integer(value)
            case UInt8(ascii: "$"):
                guard let length = Int(line) else { throw AdminError("malformed bulk length \(line)") }
                if length < 0 { return .bulk(nil) }
                guard index + length + 2 <= bytes.count else { return nil }
                let text = String(decoding: bytes[index..<index + length], as: UTF8.self)
                index += length + 2
                return .bulk(text)
            case UInt8(ascii: "*"):
                guard let count = Int(line) else { throw AdminError("malformed array length \(line)") }
                if count < 0 { return .array(nil) }
                var values: [AdminReply] = []
                values.reserveCapacity(count)
                for _ in 0..<count {
                    guard let value = try parse() else { return nil }
                    values.append(value)
                }
                return .array(values)
            default:
                throw AdminError("unexpected reply type byte \(type)")
            }
        }

        private mutating func readLine() -> String? {
            var end = index
            while end + 1 < bytes.count {
                if bytes[end] == 13 && bytes[end + 1] == 10 {
                    let line = String(decoding: bytes[index..<end], as: UTF8.self)
                    index = end + 2
                    return line
                }
                end += 1
            }
            return nil
        }
    }
}
