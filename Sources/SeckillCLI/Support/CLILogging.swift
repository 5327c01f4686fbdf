internal import Foundation
import SeckillTransport

/// `--log-level LEVEL`, accepted by every command: the library's log messages at LEVEL and
/// above go to standard error, one line each (`TIME LEVEL message key=value ...`). Off when
/// the option is not given.
enum CLILogging {
    static let option = "--log-level"

    /// The logger of the running command (set for the command's task by ``SeckillCommandLine``).
    @TaskLocal static var logger = SeckillLogger.disabled

    /// Removes `--log-level LEVEL` (or `--log-level=LEVEL`) from `arguments` wherever it is.
    ///
    /// - Returns: The other arguments and the level given, if any.
    /// - Throws: ``CLIError`` (usage) for a missing or unknown level.
    static func extract(from arguments: [String]) throws(CLIError) -> (rest: [String], level: LogLevel?) {
        var rest: [String] = []
        var level: LogLevel?
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" {
                rest += arguments[index...]
                break
            }
            var text: String?
            if argument == option {
                guard index + 1 < arguments.count else { throw levelError(nil) }
                text = arguments[index + 1]
                index += 2
            } else if argument.hasPrefix(option + "=") {
                text = String(argument.dropFirst(option.count + 1))
                index += 1
            } else {
                rest.append(argument)
                index += 1
                continue
            }
            guard let text, let parsed = LogLevel(name: text) else { throw levelError(text) }
            level = parsed
        }
        return (rest, level)
    }

    private static func levelError(_ text: String?) -> CLIError {
        let levels = LogLevel.allCases.map(\.description).joined(separator: ", ")
        let got = text.map { ", got \"\($0)\"" } ?? ""
        return CLIError("--log-level takes one of \(levels)\(got)", status: 2)
    }
}

/// Writes log lines to standard error through the console.
struct StandardErrorLogHandler: SeckillLogHandler {
    let console: Console

    func log(level: LogLevel, message: String, metadata: [String: String]) {
        var line = Self.timestamp() + " " + level.description + " " + message
        for key in metadata.keys.sorted() {
            let value = metadata[key] ?? ""
            line += " \(key)=" + (value.contains(" ") || value.isEmpty ? "\"\(value)\"" : value)
        }
        console.err(line)
    }

    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var parts = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), now.tv_nsec / 1_000_000)
    }
}
