import SeckillRouting
import Testing

@Suite("HashSlot")
struct HashSlotTests {
    @Test("known vectors: foo is 12182, bar is 5061")
    func knownVectors() {
        #expect(HashSlot(key: "foo").rawValue == 12182)
        #expect(HashSlot(key: "bar").rawValue == 5061)
        // From the Redis CLUSTER KEYSLOT documentation.
        #expect(HashSlot(key: "somekey").rawValue == 11058)
        #expect(HashSlot(key: "foo{hash_tag}").rawValue == 2515)
    }

    @Test("keys sharing a hash tag share a slot")
    func sharedHashTag() {
        #expect(HashSlot(key: "{user1000}.following") == HashSlot(key: "{user1000}.followers"))
        #expect(HashSlot(key: "{user1000}.following") == HashSlot(key: "user1000"))
        #expect(HashSlot(key: "item:{42}:stock") == HashSlot(key: "order:{42}:users"))
    }

    @Test(
        "hash tag rule follows Redis Cluster exactly",
        arguments: [
            ("foo{}{bar}", "foo{}{bar}"),
            ("foo{{bar}}zap", "{bar"),
            ("foo{bar}{zap}", "bar"),
            ("{}", "{}"),
            ("{", "{"),
            ("}", "}"),
            ("}{a}", "a"),
            ("{a", "{a"),
            ("a}", "a}"),
            ("a{b}", "b"),
            ("{{}}", "{"),
            ("{}}", "{}}"),
            ("x{y}z{w}", "y"),
        ]
    )
    func hashTagRule(key: String, hashed: String) {
        #expect(Int(HashSlot(key: key).rawValue) == Int(CRC16.checksum(hashed)) % 16384)
        #expect(Int(HashSlot(key: key).rawValue) == referenceSlot(Array(key.utf8)))
    }

    @Test("the empty key is in slot 0")
    func emptyKey() {
        #expect(HashSlot(key: "").rawValue == 0)
        #expect(HashSlot(key: [UInt8]()).rawValue == 0)
    }

    @Test("keys are bytes: NUL and 0xFF are hashed like any other byte")
    func binaryKeys() {
        let withNul: [UInt8] = [UInt8(ascii: "a"), 0x00, UInt8(ascii: "b")]
        let withFF: [UInt8] = [0xFF, 0xFE, 0x00, 0xFF]
        #expect(Int(HashSlot(key: withNul).rawValue) == referenceSlot(withNul))
        #expect(Int(HashSlot(key: withFF).rawValue) == referenceSlot(withFF))
        #expect(HashSlot(key: withNul) != HashSlot(key: [UInt8(ascii: "a"), UInt8(ascii: "b")]))
        let tagOfNul: [UInt8] = [UInt8(ascii: "x"), UInt8(ascii: "{"), 0x00, UInt8(ascii: "}")]
        #expect(HashSlot(key: tagOfNul) == HashSlot(key: [0x00]))
        #expect(HashSlot(key: "a\u{0}b") == HashSlot(key: withNul))
    }

    @Test("String, [UInt8], ArraySlice, Substring and non-contiguous keys give the same slot")
    func representationsAgree() {
        for text in ["foo", "{user1000}.following", "SKU-2026-000123", "ключ{товар}", ""] {
            let bytes = Array(text.utf8)
            let expected = HashSlot(key: text)
            #expect(HashSlot(key: bytes) == expected)
            #expect(HashSlot(key: bytes[...]) == expected)
            #expect(HashSlot(key: Substring(text).utf8) == expected)
            #expect(HashSlot(key: bytes.lazy.map { $0 }) == expected)
            #expect(bytes.withUnsafeBytes { HashSlot(keyBytes: $0) } == expected)
        }
    }

    @Test("10,000 random byte keys match the reference on contiguous and generic paths")
    func randomKeysMatchReference() {
        var mismatches = 0
        for key in randomKeys(count: 10_000, seed: 42) {
            let expected = referenceSlot(key)
            if Int(HashSlot(key: key).rawValue) != expected || Int(HashSlot(key: key.lazy.map { $0 }).rawValue) != expected {
                mismatches += 1
            }
        }
        #expect(mismatches == 0)
    }

    @Test("init from Int accepts 0...16383 only")
    func rangeChecked() {
        #expect(HashSlot(0)?.rawValue == 0)
        #expect(HashSlot(16383)?.rawValue == 16383)
        #expect(HashSlot(16384) == nil)
        #expect(HashSlot(-1) == nil)
        #expect(HashSlot.count == 16384)
        #expect(HashSlot.min.rawValue == 0 && HashSlot.max.rawValue == 16383)
    }

    @Test("slots order by number and print as the number")
    func comparableAndDescription() {
        #expect(HashSlot(5)! < HashSlot(6)!)
        #expect([HashSlot(9)!, HashSlot(1)!].sorted() == [HashSlot(1)!, HashSlot(9)!])
        #expect(HashSlot(key: "foo").description == "12182")
    }

    @Test("hashedRange(of:) returns the tag's byte offsets")
    func hashedRange() {
        let range = Array("foo{bar}{zap}".utf8).withUnsafeBytes { HashSlot.hashedRange(of: $0) }
        #expect(range == 4..<7)
        let whole = Array("foo{}{bar}".utf8).withUnsafeBytes { HashSlot.hashedRange(of: $0) }
        #expect(whole == 0..<10)
    }
}
