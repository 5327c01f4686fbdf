import Foundation

/// A private directory for one test's config files, removed when the value goes away.
///
/// Tests run in parallel, so every file lives under a UUID-named directory and every
/// command is given `--config PATH`: none relies on the working directory.
final class TemporaryDirectory: Sendable {
    /// The directory's absolute path.
    let path: String

    init() throws {
        path =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("seckill-cli-test-\(UUID().uuidString)", isDirectory: true).path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The path of `name` inside the directory (the file need not exist).
    func file(_ name: String) -> String {
        path + "/" + name
    }

    /// Writes `text` to `name` and returns the file's path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let target = file(name)
        try text.write(toFile: target, atomically: true, encoding: .utf8)
        return target
    }

    /// The content of `name`, or nil when it does not exist.
    func read(_ name: String) -> String? {
        try? String(contentsOfFile: file(name), encoding: .utf8)
    }
}
