import SeckillRouting
import Testing

@Suite("KeyPattern")
struct KeyPatternTests {
    @Test("each shape produces the documented keys")
    func shapes() throws {
        #expect(KeyPattern.sequential.keys(count: 3) == ["item:0", "item:1", "item:2"])
        #expect(try KeyPattern.template("item:{%d}:stock").key(at: 42) == "item:{42}:stock")
        #expect(try KeyPattern.template("%d-%d").key(at: 7) == "7-7")
        #expect(KeyPattern.sku().key(at: 123) == "SKU-2026-000123")
        #expect(KeyPattern.sku(year: 7).key(at: 1_234_567) == "SKU-0007-1234567")
    }

    @Test("uuid keys are well-formed version-4 UUIDs, unique and reproducible")
    func uuids() {
        let keys = KeyPattern.uuid(seed: 1).keys(count: 1000)
        #expect(Set(keys).count == 1000)
        #expect(keys == KeyPattern.uuid(seed: 1).keys(count: 1000))
        #expect(keys != KeyPattern.uuid(seed: 2).keys(count: 1000))
        for key in keys {
            let groups = key.split(separator: "-")
            #expect(groups.map(\.count) == [8, 4, 4, 4, 12])
            #expect(key.allSatisfy { $0 == "-" || $0.isHexDigit && !$0.isUppercase })
            #expect(groups[2].first == "4")
            #expect("89ab".contains(groups[3].first!))
        }
    }

    @Test("the command-line form parses and prints back")
    func parsing() throws {
        for text in ["sequential", "uuid:0", "uuid:99", "sku:2026", "sku:1999", "item:{%d}"] {
            #expect(try KeyPattern(parsing: text).description == text)
        }
        #expect(try KeyPattern(parsing: "uuid") == .uuid(seed: 0))
        #expect(try KeyPattern(parsing: "sku") == .sku(year: 2026))
        for bad in ["random", "uuid:x", "sku:20260", "item:{}", "sequential:2", ""] {
            #expect(throws: ConfigError.self) { try KeyPattern(parsing: bad) }
        }
    }

    @Test("appendKey reuses a buffer and matches key(at:)")
    func appendKey() throws {
        let pattern = try KeyPattern.template("{sku-%d}")
        var buffer: [UInt8] = []
        for index in [0, 9, 10, 99_999] {
            buffer.removeAll(keepingCapacity: true)
            pattern.appendKey(at: index, to: &buffer)
            #expect(String(decoding: buffer, as: UTF8.self) == pattern.key(at: index))
        }
    }
}
