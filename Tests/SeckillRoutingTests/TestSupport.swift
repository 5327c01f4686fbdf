import SeckillRouting

/// Deterministic random numbers for tests (SplitMix64), so failures reproduce.
struct TestRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Bitwise CRC16-XMODEM straight from the definition, independent of the table.
func referenceCRC16(_ bytes: [UInt8]) -> UInt16 {
    var crc: UInt16 = 0
    for byte in bytes {
        crc ^= UInt16(byte) << 8
        for _ in 0..<8 {
            crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
        }
    }
    return crc
}

/// The Redis Cluster key-to-slot rule written as directly as possible.
func referenceSlot(_ key: [UInt8]) -> Int {
    var hashed = key
    if let open = key.firstIndex(of: UInt8(ascii: "{")),
        let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")),
        close > open + 1
    {
        hashed = Array(key[(open + 1)..<close])
    }
    return Int(referenceCRC16(hashed)) % 16384
}

/// Random keys of 0-40 bytes, often containing braces, NUL and 0xFF.
func randomKeys(count: Int, seed: UInt64) -> [[UInt8]] {
    var random = TestRandom(seed: seed)
    let specials: [UInt8] = [UInt8(ascii: "{"), UInt8(ascii: "}"), 0x00, 0xFF]
    return (0..<count).map { _ in
        let length = Int.random(in: 0...40, using: &random)
        return (0..<length).map { _ in
            Int.random(in: 0..<4, using: &random) == 0
                ? specials.randomElement(using: &random)!
                : UInt8.random(in: 0...255, using: &random)
        }
    }
}

/// The three-node example config of the documentation.
let exampleJSON = """
    {
      "nodes": [
        {"name": "node-a", "host": "127.0.0.1", "port": 7000, "slots": [[0, 5460]]},
        {"name": "node-b", "host": "127.0.0.1", "port": 7001, "slots": [[5461, 10922]]},
        {"name": "node-c", "host": "127.0.0.1", "port": 7002, "slots": [[10923, 16383]]}
      ],
      "pool": {"connectionsPerNode": 2, "maxInFlightPerNode": 1024, "acquireTimeoutMs": 500},
      "timeouts": {"connectMs": 1000, "commandMs": 1000},
      "auth": {"username": "default", "passwordEnv": "SECKILL_REDIS_PASSWORD"}
    }
    """

/// Three nodes on 127.0.0.1:7000-7002 with the given slot ranges.
func threeNodes(_ a: [ClosedRange<Int>], _ b: [ClosedRange<Int>], _ c: [ClosedRange<Int>]) -> [NodeConfig] {
    [
        NodeConfig(name: "node-a", host: "127.0.0.1", port: 7000, slots: a),
        NodeConfig(name: "node-b", host: "127.0.0.1", port: 7001, slots: b),
        NodeConfig(name: "node-c", host: "127.0.0.1", port: 7002, slots: c),
    ]
}

/// The problems `ClusterConfig.parse` reports for `json`, or `[]` when it parses.
func problems(parsing json: String, source: String = "cluster.json") -> [String] {
    do {
        _ = try ClusterConfig.parse(json, source: source)
        return []
    } catch {
        return error.problems
    }
}
