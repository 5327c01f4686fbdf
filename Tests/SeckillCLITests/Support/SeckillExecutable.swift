import Foundation
import Testing

/// The built `seckill` binary, run as a child process with separate standard output and
/// standard error (`ChildProcess.run` merges them) and, optionally, extra environment
/// variables, so tests never call `setenv` in the shared test process.
enum SeckillExecutable {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var stderrLines: [Substring] { CLIRun.lines(stderr) }
    }

    /// Where the binary is: next to the test bundle (both are products of the same build),
    /// else `.build/debug/seckill` under the package root found from this file's path.
    static func path() throws -> String {
        var candidates: [String] = []
        if let bundle = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(URL(fileURLWithPath: bundle).deletingLastPathComponent().appendingPathComponent("seckill").path)
        }
        candidates.append(
            URL(fileURLWithPath: Bundle.main.executablePath ?? "/nonexistent")
                .deletingLastPathComponent().appendingPathComponent("seckill").path)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/seckill").path)
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw LaunchError(
                description:
                    "seckill binary not found (looked at \(candidates.joined(separator: ", "))); build it with swift build --build-tests")
        }
        return found
    }

    struct LaunchError: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs `seckill arguments...` to completion.
    ///
    /// - Parameters:
    ///   - arguments: The command line after the program name.
    ///   - environment: Variables added to (or replacing those of) this process's environment.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        try start(arguments, environment: environment).wait()
    }

    /// A `seckill` child process started by ``start(_:environment:)``, for tests that signal
    /// it while it runs. Used by one test at a time (not shared between tasks).
    final class Running {
        /// The process id.
        let pid: pid_t
        private let directory: TemporaryDirectory
        private var status: Int32?

        fileprivate init(pid: pid_t, directory: TemporaryDirectory) {
            self.pid = pid
            self.directory = directory
        }

        deinit {
            // A test that failed before stopping its child must not leave it running.
            if status == nil { _ = kill(SIGKILL) }
        }

        /// True while the process has not exited (reaps it if it has).
        var isRunning: Bool {
            guard status == nil else { return false }
            var raw: Int32 = 0
            guard waitpid(pid, &raw, WNOHANG) == pid else { return true }
            status = Self.exitStatus(raw)
            return false
        }

        /// Sends `signal` (unless the process already exited) and waits for it to exit.
        ///
        /// - Returns: The exit status, 128 + the signal's number when a signal ended it.
        @discardableResult
        func kill(_ signal: Int32) -> Int32 {
            if isRunning { Glibc.kill(pid, signal) }
            return waitForExit()
        }

        /// Waits for the process to exit and returns its status and output.
        func wait() throws -> Result {
            let exit = waitForExit()
            return Result(
                status: exit,
                stdout: (try? String(contentsOfFile: directory.file("stdout"), encoding: .utf8)) ?? "",
                stderr: (try? String(contentsOfFile: directory.file("stderr"), encoding: .utf8)) ?? "")
        }

        private func waitForExit() -> Int32 {
            if let status { return status }
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) < 0 {
                guard errno == EINTR else { return -1 }
            }
            let exit = Self.exitStatus(raw)
            status = exit
            return exit
        }

        // A signal is reported as 128 + its number, as shells do.
        private static func exitStatus(_ raw: Int32) -> Int32 {
            raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
        }
    }

    /// Starts `seckill arguments...` and returns at once.
    ///
    /// - Parameters:
    ///   - arguments: The command line after the program name.
    ///   - environment: Variables added to (or replacing those of) this process's environment.
    static func start(_ arguments: [String], environment: [String: String] = [:]) throws -> Running {
        let program = try path()
        let directory = try TemporaryDirectory()
        let outPath = directory.file("stdout")
        let errPath = directory.file("stderr")

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)

        let merged = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in envp { free(pointer) } }
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }

        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, program, &actions, nil, argv, envp)
        guard spawned == 0 else {
            throw LaunchError(description: "cannot start \(program): \(String(cString: strerror(spawned)))")
        }
        return Running(pid: pid, directory: directory)
    }
}
