internal import Foundation
internal import Glibc
import Synchronization

/// Where a command writes: the terminal, or a buffer in tests.
public final class Console: Sendable {
    private enum Sink { case standard, buffer }
    private let sink: Sink
    private let buffers = Mutex<(out: String, err: String)>(("", ""))
    /// True when standard output is a terminal (progress lines and colours are shown).
    public let isTerminal: Bool

    /// The process's standard output and standard error.
    public static func standard() -> Console { Console(sink: .standard, isTerminal: isatty(1) == 1) }

    /// A console that keeps what is written, for tests.
    public static func capturing() -> Console { Console(sink: .buffer, isTerminal: false) }

    private init(sink: Sink, isTerminal: Bool) {
        self.sink = sink
        self.isTerminal = isTerminal
    }

    /// Writes `text` and a newline to standard output.
    public func out(_ text: String) { line(text, to: 1) }

    /// Writes `text` and a newline to standard error.
    public func err(_ text: String) { line(text, to: 2) }

    private func line(_ text: String, to fd: Int32) {
        switch sink {
        case .standard:
            Self.write(text + "\n", to: fd)
        case .buffer:
            buffers.withLock { buffers in
                if fd == 1 { buffers.out += text + "\n" } else { buffers.err += text + "\n" }
            }
        }
    }

    /// Rewrites the current terminal line (progress); nothing when not a terminal.
    public func status(_ text: String) {
        guard isTerminal, case .standard = sink else { return }
        Self.write("\r\u{1B}[2K\(text)", to: 2)
    }

    /// Clears a progress line.
    public func clearStatus() {
        guard isTerminal, case .standard = sink else { return }
        Self.write("\r\u{1B}[2K", to: 2)
    }

    /// Writes straight to a descriptor. A reader that went away (`seckill ... | head`) gives
    /// EPIPE (SIGPIPE is ignored): the rest of the output is dropped instead of crashing.
    private static func write(_ text: String, to fd: Int32) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written > 0 {
                offset += written
            } else if written < 0 && errno == EINTR {
                continue
            } else {
                return
            }
        }
    }

    /// What was written to standard output (capturing consoles only).
    public var capturedOutput: String { buffers.withLock { $0.out } }
    /// What was written to standard error (capturing consoles only).
    public var capturedError: String { buffers.withLock { $0.err } }
}
