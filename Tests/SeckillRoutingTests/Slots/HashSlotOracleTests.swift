import SeckillRESP
import SeckillRouting
import SeckillTestSupport
import SeckillTransport
import Testing

/// Checks the slot function against a real cluster-enabled redis-server: the server's
/// `CLUSTER KEYSLOT` is the independent oracle.
@Suite("HashSlot against CLUSTER KEYSLOT", .timeLimit(.minutes(2)))
struct HashSlotOracleTests {
    /// Keys of every kind: printable, braces in every position, unicode, and raw binary.
    static func oracleKeys(seed: UInt64) -> [[UInt8]] {
        var random = TestRandom(seed: seed)
        var keys: [[UInt8]] = []
        let alphabet = Array("abcxyz019:{}-_ ".utf8)
        // Printable keys with braces sprinkled anywhere.
        for _ in 0..<2_000 {
            let length = Int.random(in: 0...24, using: &random)
            keys.append((0..<length).map { _ in alphabet.randomElement(using: &random)! })
        }
        // One brace pair (or a lone brace) at every position of a fixed key.
        let base = Array("item:sku-2026-000123:stock".utf8)
        for open in 0...base.count {
            for close in open...base.count {
                var key = base
                key.insert(UInt8(ascii: "}"), at: close)
                key.insert(UInt8(ascii: "{"), at: open)
                keys.append(key)
            }
            var lone = base
            lone.insert(UInt8(ascii: "{"), at: open)
            keys.append(lone)
        }
        // Unicode text, with and without tags.
        let words = ["秒杀", "商品", "ユーザー", "🛒", "café", "naïve", "Ωmega", "{秒杀}", "{🛒}:stock", "a{é}b"]
        for index in 0..<800 {
            let word = words[index % words.count]
            keys.append(Array("\(word)-\(index)".utf8))
            keys.append(Array("{\(word)}\(index)".utf8))
        }
        // Binary: NUL, 0xFF, CR/LF, invalid UTF-8.
        for _ in 0..<1_000 {
            let length = Int.random(in: 1...32, using: &random)
            keys.append((0..<length).map { _ in UInt8.random(in: 0...255, using: &random) })
        }
        return keys
    }

    @Test("the slot of 5,000+ random keys equals CLUSTER KEYSLOT of a real server")
    func matchesRedis() async throws {
        let server = try RedisServer(cluster: true)
        let pool = NodePool(endpoint: RedisEndpoint(host: "127.0.0.1", port: server.port))
        defer { pool.close() }
        let keys = Self.oracleKeys(seed: 0x5EC_0011)
        #expect(keys.count >= 5_000)
        var mismatches: [String] = []
        for start in stride(from: 0, to: keys.count, by: 500) {
            let batch = Array(keys[start..<min(start + 500, keys.count)])
            let commands = batch.map { key -> RESPCommand in
                var command = RESPCommand("CLUSTER")
                command.append("KEYSLOT")
                command.append(key)
                return command
            }
            let replies = try await pool.pipeline(commands)
            for (key, reply) in zip(batch, replies) {
                let ours = Int(HashSlot(key: key).rawValue)
                guard let theirs = reply.int else {
                    mismatches.append("\(key): reply \(reply)")
                    continue
                }
                if ours != Int(theirs) { mismatches.append("\(key): ours \(ours), redis \(theirs)") }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches, first: \(mismatches.prefix(5))")
    }

    @Test("String keys hash their UTF-8 bytes exactly as Redis does")
    func unicodeStrings() async throws {
        let server = try RedisServer(cluster: true)
        let pool = NodePool(endpoint: RedisEndpoint(host: "127.0.0.1", port: server.port))
        defer { pool.close() }
        for key in ["foo", "bar", "{user1000}.following", "秒杀:{商品-1}", "🛒", "foo{}{bar}", "foo{{bar}}zap"] {
            let reply = try await pool.send(RESPCommand("CLUSTER", "KEYSLOT", key))
            #expect(reply.int == Int64(HashSlot(key: key).rawValue), "\(key)")
        }
    }
}
