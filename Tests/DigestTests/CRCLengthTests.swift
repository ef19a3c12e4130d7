import Digest
import Testing

/// Lengths around the CRC fast paths' block sizes (8, 16 and 64 bytes), over a fixed pattern;
/// expected values from a byte-at-a-time table CRC in Python.
struct CRCLengthTests {
    static let pattern: [UInt8] = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ ($0 >> 8)) }

    static let cases: [(length: Int, crc64: UInt64, crc32c: UInt32)] = [
        (15, 0x06ac_7592_27df_d0a2, 0xc61b_d78d),
        (16, 0x0a14_369b_ce39_5e9f, 0x4edd_5d85),
        (63, 0x5764_9fd4_d510_3924, 0x8e9c_3bbe),
        (64, 0xf9ed_b24a_3f06_6152, 0x1cbe_3421),
        (65, 0xc972_3077_e14d_358f, 0x433a_c67c),
        (127, 0xd2ab_bb07_a7cc_e7dd, 0x92e1_fa7c),
        (128, 0xa93b_605e_2d97_7a03, 0xfd99_3917),
        (129, 0xceac_e956_4dd4_426c, 0x14e2_5294),
        (200, 0x60c1_07d6_e8dd_24a7, 0xfe4a_cd74),
        (1000, 0xe6c9_f21a_bee7_bae2, 0xcaf6_8f15),
        (4103, 0x928e_7a2b_1e0f_4b96, 0xcb13_b3b2),
        (65536, 0xbbee_5d64_664c_3de8, 0xd582_278c),
        (100_000, 0x7513_461d_6dc9_f0c0, 0x1372_0567),
    ]

    @Test(arguments: cases)
    func crc64NVME(_ testCase: (length: Int, crc64: UInt64, crc32c: UInt32)) {
        var digest = CRC64NVME()
        digest.update(Self.pattern[..<testCase.length])
        #expect(digest.finalize() == bigEndian(testCase.crc64))
    }

    @Test(arguments: cases)
    func crc32C(_ testCase: (length: Int, crc64: UInt64, crc32c: UInt32)) {
        var digest = CRC32C()
        digest.update(Self.pattern[..<testCase.length])
        #expect(digest.finalize() == bigEndian(testCase.crc32c))
    }

    @Test func thirtyTwoZeroBytesCRC64() {
        var digest = CRC64NVME()
        digest.update([UInt8](repeating: 0, count: 32))
        #expect(digest.finalize().hexString == "cf3473434d4ecf3b")
    }

    private func bigEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }
}
