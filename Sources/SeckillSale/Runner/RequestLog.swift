internal import Foundation
import Synchronization

/// An append-only file of purchase attempts and of the purchases they made, written so that a
/// process killed at any moment (SIGKILL included) leaves on disk every attempt it sent and
/// every purchase it acknowledged; a new process retries them all with
/// ``SaleRunner/retry(_:concurrency:checkInvariants:)`` (`seckill retry FILE`).
///
/// Format: text, one record per line, fields separated by one space.
/// - `ITEM USER QUANTITY REQUEST`: an attempt. Written before the purchase is sent, so a
///   purchase Redis may have applied always has its line.
/// - `A REQUEST ORDER`: the attempt with request id REQUEST bought; ORDER is its order id
///   (its entry in the item's orders stream). Written after the answer.
/// - Lines starting with `#` are comments; a new file starts with one naming the format.
///
/// Each line is one `write(2)` to a descriptor opened with `O_APPEND`: nothing is buffered in
/// the process, so a kill loses no line that was written, and lines written by concurrent
/// tasks never interleave. A kill in the middle of a `write` can leave the last line without
/// its newline; that attempt was never sent, and ``RequestLogContents`` skips it. The lines
/// are in the page cache, not synced: they survive the process, not a crash of the machine.
///
/// Item and user ids must contain no spaces.
public final class RequestLog: Sendable {
    /// The file's path, as given.
    public let path: String
    private let descriptor: Int32
    private let attemptLines = Atomic<Int>(0)
    private let acknowledgementLines = Atomic<Int>(0)
    private let acknowledgementFailures = Atomic<Int>(0)
    private let firstFailure = Mutex<String?>(nil)

    /// The comment a new log starts with.
    static let header = "# seckill request log: ITEM USER QUANTITY REQUEST before each attempt is sent, A REQUEST ORDER after it bought"

    /// Opens `path` for appending, creating it when missing (an existing log keeps its lines).
    ///
    /// - Throws: ``SaleError`` with ``SaleError/Code/requestLog`` when the file cannot be
    ///   opened or its header written.
    public init(path: String) throws(SaleError) {
        self.path = path
        var fd: Int32
        repeat {
            fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        } while fd < 0 && errno == EINTR
        guard fd >= 0 else {
            throw SaleError(code: .requestLog, message: "cannot open the request log \(path): \(Self.describe(errno: errno))")
        }
        descriptor = fd
        if lseek(fd, 0, SEEK_END) == 0, let code = Self.append(Self.header + "\n", to: fd) {
            throw SaleError(code: .requestLog, message: "cannot write the request log \(path): \(Self.describe(errno: code))")
        }
    }

    deinit { close(descriptor) }

    /// Appends `ITEM USER QUANTITY REQUEST`; call it before sending the purchase, and do not
    /// send it when this throws.
    ///
    /// - Throws: ``SaleError`` with ``SaleError/Code/requestLog`` when the line could not be
    ///   written or an id contains a space.
    public func attempt(item: String, user: String, quantity: Int, request: String) throws(SaleError) {
        let space = UInt8(ascii: " ")
        guard !item.utf8.contains(space), !user.utf8.contains(space), !request.utf8.contains(space) else {
            throw SaleError(
                code: .requestLog,
                message: "request log \(path): item, user and request ids must contain no spaces (item \"\(item)\", user \"\(user)\")")
        }
        if let code = Self.append("\(item) \(user) \(quantity) \(request)\n", to: descriptor) {
            let message = "cannot write the request log \(path): \(Self.describe(errno: code)); the attempt was not sent"
            firstFailure.withLock { if $0 == nil { $0 = message } }
            throw SaleError(code: .requestLog, message: message)
        }
        attemptLines.add(1, ordering: .relaxed)
    }

    /// Appends `A REQUEST ORDER` after a purchase bought. Never throws: the purchase stands
    /// either way, and a retry of its attempt line confirms it; a failure is counted in
    /// ``failedAcknowledgements``.
    public func acknowledge(request: String, order: String) {
        if let code = Self.append("A \(request) \(order)\n", to: descriptor) {
            acknowledgementFailures.add(1, ordering: .relaxed)
            let message =
                "cannot write the request log \(path): \(Self.describe(errno: code)); an acknowledgement was lost (the retry confirms its purchase)"
            firstFailure.withLock { if $0 == nil { $0 = message } }
            return
        }
        acknowledgementLines.add(1, ordering: .relaxed)
    }

    /// Attempt lines written by this process.
    public var attempts: Int { attemptLines.load(ordering: .relaxed) }
    /// Acknowledgement lines written by this process.
    public var acknowledgements: Int { acknowledgementLines.load(ordering: .relaxed) }
    /// Acknowledgements that could not be written.
    public var failedAcknowledgements: Int { acknowledgementFailures.load(ordering: .relaxed) }
    /// The first write failure, if any.
    public var failure: String? { firstFailure.withLock { $0 } }

    /// Writes all of `line` with `write(2)`, retrying on EINTR and after a short write;
    /// returns the errno of a failure, nil on success.
    private static func append(_ line: String, to fd: Int32) -> Int32? {
        var line = line
        return line.withUTF8 { bytes -> Int32? in
            var offset = 0
            while offset < bytes.count {
                let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                let code = errno
                if written > 0 {
                    offset += written
                } else if written < 0 && code == EINTR {
                    continue
                } else {
                    return written == 0 ? EIO : code
                }
            }
            return nil
        }
    }

    static func describe(errno code: Int32) -> String {
        String(cString: strerror(code))
    }
}
