/// A command failure: a one-line message for standard error and an exit status.
struct CLIError: Error, CustomStringConvertible {
    /// The line printed after `seckill: `.
    let message: String
    /// 1 for a failure, 2 for a usage error.
    let status: Int32

    init(_ message: String, status: Int32 = 1) {
        self.message = message
        self.status = status
    }

    static func usage(_ command: String, _ message: String) -> CLIError {
        CLIError("\(command): \(message) (see seckill \(command) --help)", status: 2)
    }

    var description: String { message }
}
