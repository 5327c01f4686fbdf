import Foundation

/// Access to this process's environment variables.
enum ProcessEnvironment {
    static func current() -> [String: String] {
        ProcessInfo.processInfo.environment
    }
}
