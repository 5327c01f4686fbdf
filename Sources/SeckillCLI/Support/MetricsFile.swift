internal import Foundation
import SeckillSale

/// `--metrics-file FILE`: the coordinator's and its nodes' metrics in the Prometheus text
/// format, written every second while a command runs and once more at its end. Each write
/// goes to `FILE.tmp` and is renamed over FILE, so a reader never sees half a file.
enum MetricsFile {
    static let option = ("--metrics-file", "FILE: write Prometheus text metrics to FILE every second and at the end")

    /// Runs `body`, writing `coordinator`'s metrics to `path` (when given) every second until
    /// it returns, then once more.
    ///
    /// - Throws: What `body` throws, or ``CLIError`` when the file cannot be written.
    static func during<T: Sendable>(
        _ path: String?, coordinator: SaleCoordinator, _ body: () async throws(CLIError) -> T
    ) async throws(CLIError) -> T {
        guard let path else { return try await body() }
        try write(coordinator, to: path)
        let result: Result<T, CLIError> = await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // Cancelled when the body is done; a failed periodic write is reported by the final one.
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    if Task.isCancelled { break }
                    try? write(coordinator, to: path)
                }
            }
            defer { group.cancelAll() }
            do throws(CLIError) {
                return .success(try await body())
            } catch {
                return .failure(error)
            }
        }
        try write(coordinator, to: path)
        return try result.get()
    }

    /// Writes the metrics now.
    static func write(_ coordinator: SaleCoordinator, to path: String) throws(CLIError) {
        let text = PrometheusExposition.render(nodes: coordinator.client.nodeMetrics(), sale: coordinator.metrics.snapshot)
        let temporary = path + ".tmp"
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
            if rename(temporary, path) != 0 {
                throw CLIError("cannot write the metrics file \(path): \(String(cString: strerror(errno)))")
            }
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError("cannot write the metrics file \(path): \(error.localizedDescription)")
        }
    }
}
