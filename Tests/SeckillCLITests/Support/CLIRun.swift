import Foundation
import SeckillCLI
import Testing

/// What one in-process run of the command line printed, and its exit status.
struct CLIRun {
    var status: Int32
    var stdout: String
    var stderr: String

    /// Runs `seckill arguments...` in this process with a capturing console.
    static func run(_ arguments: [String]) async -> CLIRun {
        let console = Console.capturing()
        let status = await SeckillCommandLine.run(arguments, console: console)
        return CLIRun(status: status, stdout: console.capturedOutput, stderr: console.capturedError)
    }

    /// Runs `seckill arguments...` and expects exit status 0; the failure shows what the
    /// command wrote to standard error.
    @discardableResult
    static func expectSuccess(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) async -> CLIRun {
        let result = await run(arguments)
        #expect(
            result.status == 0, "seckill \(arguments.joined(separator: " ")): exit \(result.status): \(result.stderr)",
            sourceLocation: sourceLocation)
        return result
    }

    /// The lines of standard error (none when it is empty).
    var stderrLines: [Substring] { Self.lines(stderr) }
    /// The lines of standard output.
    var stdoutLines: [Substring] { Self.lines(stdout) }

    static func lines(_ text: String) -> [Substring] {
        guard !text.isEmpty else { return [] }
        return Array(text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(text.hasSuffix("\n") ? 1 : 0))
    }

    /// Standard output parsed as JSON with Foundation, so the commands' own writer is checked
    /// by an independent parser.
    func json() throws -> Any {
        try JSONSerialization.jsonObject(with: Data(stdout.utf8))
    }

    /// Standard output as a JSON array of objects.
    func jsonArray(sourceLocation: SourceLocation = #_sourceLocation) throws -> [[String: Any]] {
        try #require(try json() as? [[String: Any]], "stdout is not a JSON array of objects: \(stdout)", sourceLocation: sourceLocation)
    }

    /// Standard output as a JSON object.
    func jsonObject(sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        try #require(try json() as? [String: Any], "stdout is not a JSON object: \(stdout)", sourceLocation: sourceLocation)
    }
}

extension Dictionary where Key == String, Value == Any {
    /// A JSON number member as a Double; nil for strings, null and booleans.
    func number(_ key: String) -> Double? {
        guard let value = self[key], let number = value as? NSNumber, !Self.isBoolean(value) else { return nil }
        return number.doubleValue
    }

    /// A JSON boolean member; nil for numbers (which Foundation also bridges to Bool).
    func bool(_ key: String) -> Bool? {
        guard let value = self[key], Self.isBoolean(value) else { return nil }
        return value as? Bool
    }

    // JSONSerialization returns true/false as __NSCFBoolean, a subclass of NSNumber, on
    // Linux and Darwin alike; `as? Bool` alone would also accept the numbers 0 and 1.
    private static func isBoolean(_ value: Any) -> Bool {
        String(describing: type(of: value)).contains("Boolean")
    }

    /// A JSON string member.
    func string(_ key: String) -> String? { self[key] as? String }

    /// True when the member is JSON null.
    func isNull(_ key: String) -> Bool { self[key] is NSNull }
}
