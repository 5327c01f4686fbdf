import SeckillRouting
import Testing

@Suite("CRC16")
struct CRC16Tests {
    @Test("the standard check value of \"123456789\" is 0x31C3")
    func checkValue() {
        let bytes = Array("123456789".utf8)
        #expect(CRC16.checksum("123456789") == 0x31C3)
        #expect(CRC16.checksum(bytes) == 0x31C3)
        #expect(bytes.withUnsafeBytes { CRC16.checksum($0) } == 0x31C3)
        #expect(referenceCRC16(bytes) == 0x31C3)
    }

    @Test("empty input checksums to 0")
    func emptyInput() {
        #expect(CRC16.checksum([UInt8]()) == 0)
        #expect(CRC16.checksum("") == 0)
    }

    @Test("non-contiguous sequences give the same checksum as arrays")
    func nonContiguousSequence() {
        let bytes = Array("123456789".utf8)
        #expect(CRC16.checksum(bytes.lazy.map { $0 }) == 0x31C3)
        #expect(CRC16.checksum(AnySequence(bytes)) == 0x31C3)
    }

    @Test("update(_:with:) byte by byte equals the one-shot checksum")
    func incrementalUpdate() {
        var crc: UInt16 = 0
        for byte in "123456789".utf8 {
            crc = CRC16.update(crc, with: byte)
        }
        #expect(crc == 0x31C3)
    }

    @Test("the table-driven CRC matches a bitwise reference on 10,000 random byte strings")
    func matchesBitwiseReference() {
        var mismatches = 0
        for key in randomKeys(count: 10_000, seed: 0xC0FFEE) where CRC16.checksum(key) != referenceCRC16(key) {
            mismatches += 1
        }
        #expect(mismatches == 0)
    }
}
