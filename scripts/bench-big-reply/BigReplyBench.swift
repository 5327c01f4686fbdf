// Latency of small commands while a large reply arrives on another connection of the same
// event loop. Built by scripts/bench-big-reply.sh against a release build of SeckillRESP and
// SeckillTransport (this branch's, or an older checkout's), so the same program measures
// both; it uses only their public API.
import Foundation
import SeckillRESP
import SeckillTransport

@main
struct BigReplyBench {
    static func main() async throws {
        var options: [String: String] = [:]
        var arguments = CommandLine.arguments.dropFirst()
        while let key = arguments.popFirst() {
            options[key] = arguments.popFirst() ?? ""
        }
        let port = Int(options["--port"] ?? "6379")!
        // The big replies may come from another server, so that the server's own pause while
        // it copies a huge value into its output buffer does not count as the client's.
        let bigPort = Int(options["--big-port"] ?? "\(port)")!
        let concurrency = Int(options["--concurrency"] ?? "50")!
        let seconds = Double(options["--seconds"] ?? "5")!
        let bigBytes = Int(options["--big-bytes"] ?? "\(50_000_000)")!
        let mode = options["--mode"] ?? "get"
        let label = options["--label"] ?? "build"

        let connection = ConnectionOptions(connectTimeout: .seconds(5), commandTimeout: .seconds(120))
        let small = NodePool(
            endpoint: RedisEndpoint(name: "small", host: "127.0.0.1", port: port), connection: connection,
            pool: PoolOptions(connections: 1, maxInFlight: 4096))
        let big = NodePool(
            endpoint: RedisEndpoint(name: "big", host: "127.0.0.1", port: bigPort), connection: connection,
            pool: PoolOptions(connections: 1))
        defer { small.close(); big.close() }
        try await small.warmUp()
        try await big.warmUp()

        let bigKey = "bench:big:\(mode):\(bigBytes)"
        let bigCommand: RESPCommand
        if mode == "get" {
            if try await big.send(RESPCommand("EXISTS", bigKey)).int != 1 {
                var set = RESPCommand("SET", bigKey)
                set.append([UInt8](repeating: UInt8(ascii: "x"), count: bigBytes))
                _ = try await big.send(set)
            }
            bigCommand = RESPCommand("GET", bigKey)
        } else {
            // A list of 100-byte elements adding up to about bigBytes (LRANGE replies ~108 bytes each).
            let elements = bigBytes / 108
            if try await big.send(RESPCommand("LLEN", bigKey)).int != Int64(elements) {
                _ = try await big.send(RESPCommand("DEL", bigKey))
                let element = String(repeating: "y", count: 100)
                var pushed = 0
                while pushed < elements {
                    let batch = min(10_000, elements - pushed)
                    var push = RESPCommand("RPUSH", bigKey)
                    for _ in 0..<batch { push.append(element) }
                    _ = try await big.send(push)
                    pushed += batch
                }
            }
            bigCommand = RESPCommand("LRANGE", bigKey, "0", "-1")
        }
        _ = try await small.send(RESPCommand("SET", "bench:small", "v"))
        let smallCommand = RESPCommand("GET", "bench:small")

        // Warm-up, then the two phases.
        _ = try await run(small: small, command: smallCommand, concurrency: concurrency, seconds: 1, big: nil, bigCommand: bigCommand)
        for phase in ["alone", "with-big-reply"] {
            let result = try await run(
                small: small, command: smallCommand, concurrency: concurrency, seconds: seconds,
                big: phase == "alone" ? nil : big, bigCommand: bigCommand)
            let sorted = result.latencies.sorted()
            func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
            let bigMs = result.bigLatencies.isEmpty ? 0 : result.bigLatencies.reduce(0, +) / Double(result.bigLatencies.count)
            let server = bigPort == port ? "same" : "other"
            let numbers = String(
                format: "%9d %8.3f %8.3f %8.3f %9.3f %6d %10.1f",
                sorted.count, percentile(0.5), percentile(0.99), percentile(0.999), sorted.last ?? 0,
                result.bigLatencies.count, bigMs)
            print([label.padded(5), mode.padded(7), server.padded(6), phase.padded(15), numbers].joined(separator: " "))
        }
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    /// Runs `concurrency` callers of `command` for `seconds`, and meanwhile (when `big` is
    /// given) one caller of `bigCommand` back to back on its own pool.
    static func run(
        small: NodePool, command: RESPCommand, concurrency: Int, seconds: Double,
        big: NodePool?, bigCommand: RESPCommand
    ) async throws -> (latencies: [Double], bigLatencies: [Double]) {
        let clock = ContinuousClock()
        let end = clock.now + .milliseconds(Int(seconds * 1000))
        return try await withThrowingTaskGroup(of: ([Double], Bool).self) { group in
            if let big {
                group.addTask {
                    var latencies: [Double] = []
                    while clock.now < end {
                        let sent = clock.now
                        _ = try await big.send(bigCommand)
                        latencies.append(milliseconds(clock.now - sent))
                    }
                    return (latencies, true)
                }
            }
            for _ in 0..<concurrency {
                group.addTask {
                    var latencies: [Double] = []
                    while clock.now < end {
                        let sent = clock.now
                        _ = try await small.send(command)
                        latencies.append(milliseconds(clock.now - sent))
                    }
                    return (latencies, false)
                }
            }
            var latencies: [Double] = []
            var bigLatencies: [Double] = []
            for try await (values, isBig) in group {
                if isBig { bigLatencies += values } else { latencies += values }
            }
            return (latencies, bigLatencies)
        }
    }
}

extension String {
    func padded(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
