import SeckillTransport
import Synchronization
import Testing

/// The library's logging protocol: off by default, filtered by level before anything is built.
@Suite("SeckillLogger")
struct SeckillLoggerTests {
    final class Collector: SeckillLogHandler {
        let lines = Mutex<[(LogLevel, String, [String: String])]>([])
        func log(level: LogLevel, message: String, metadata: [String: String]) {
            lines.withLock { $0.append((level, message, metadata)) }
        }
        var messages: [String] { lines.withLock { $0.map(\.1) } }
    }

    @Test("the disabled logger builds neither message nor metadata")
    func disabledBuildsNothing() {
        let built = Atomic<Int>(0)
        func message() -> String {
            built.add(1, ordering: .relaxed)
            return "m"
        }
        SeckillLogger.disabled.log(.error, message(), ["k": message()])
        #expect(built.load(ordering: .relaxed) == 0)
        #expect(!SeckillLogger.disabled.isEnabled(.error))
    }

    @Test("messages below the level are dropped before they are built; the rest reach the handler with their metadata")
    func levels() {
        let collector = Collector()
        let logger = SeckillLogger(handler: collector, level: .info)
        let built = Atomic<Int>(0)
        func text(_ value: String) -> String {
            built.add(1, ordering: .relaxed)
            return value
        }
        logger.log(.debug, text("debug"))
        logger.log(.info, text("info"), ["node": "node-a"])
        logger.log(.error, text("error"))
        #expect(collector.messages == ["info", "error"])
        #expect(built.load(ordering: .relaxed) == 2)
        #expect(collector.lines.withLock { $0.first?.2 } == ["node": "node-a"])
        #expect(logger.isEnabled(.warning) && !logger.isEnabled(.debug))
    }

    @Test("levels are named and ordered")
    func names() {
        #expect(LogLevel.allCases.map(\.description) == ["trace", "debug", "info", "warning", "error"])
        #expect(LogLevel(name: "WARNING") == .warning)
        #expect(LogLevel(name: "loud") == nil)
        #expect(LogLevel.trace < LogLevel.error)
    }
}
