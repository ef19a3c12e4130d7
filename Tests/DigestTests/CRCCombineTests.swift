import CMartletSystem
import Digest
import Testing

/// FULL_OBJECT checksums folded from part CRCs must equal the CRC of the whole byte stream.
@Suite struct CRCCombineTests {
    static let crcAlgorithms: [ChecksumAlgorithm] = [.crc32, .crc32c, .crc64nvme]

    /// 9 MiB + 5 bytes of deterministic pseudo-random data, so pieces can be several MiB.
    static let data: [UInt8] = {
        var generator = SplitMix64(seed: 0xC0FFEE)
        let count = 9 << 20 + 5
        var bytes = [UInt8]()
        bytes.reserveCapacity(count + 8)
        while bytes.count < count {
            withUnsafeBytes(of: generator.next()) { bytes.append(contentsOf: $0) }
        }
        return Array(bytes[..<count])
    }()

    // MARK: Known vectors

    static let check = Array("123456789".utf8)
    static let checkValues: [(ChecksumAlgorithm, UInt64)] = [
        (.crc32, 0xCBF4_3926), (.crc32c, 0xE306_9283), (.crc64nvme, 0xAE8B_1486_0A79_9888),
    ]

    @Test(arguments: checkValues)
    func checkValueFromEveryTwoAndThreeWaySplit(_ algorithm: ChecksumAlgorithm, _ expected: UInt64) {
        let whole = bigEndian(expected, count: algorithm.digestLength)
        #expect(digest(Self.check[...], algorithm) == whole)
        for i in 0...Self.check.count {
            for j in i...Self.check.count {
                let cuts = [0, i, j, Self.check.count]
                let parts = zip(cuts, cuts.dropFirst()).map { piece(Self.check[$0..<$1], algorithm) }
                #expect(algorithm.combineFullObject(parts) == whole, "split at \(i), \(j)")
            }
        }
    }

    @Test func checkValuesThroughTheIntegerAPI() {
        let (head, tail) = (Self.check[..<4], Self.check[4...])
        let n = Int64(tail.count)
        #expect(CRCCombine.crc32(crc32(head), crc32(tail), lengthOfB: n) == 0xCBF4_3926)
        #expect(CRCCombine.crc32c(crc32c(head), crc32c(tail), lengthOfB: n) == 0xE306_9283)
        #expect(CRCCombine.crc64nvme(crc64(head), crc64(tail), lengthOfB: n) == 0xAE8B_1486_0A79_9888)
    }

    // MARK: Random data, many splits

    /// Hand-picked cuts: empty pieces, 1-byte pieces, and pieces of several MiB.
    @Test(arguments: crcAlgorithms)
    func fixedSplitsWithEmptyTinyAndHugePieces(_ algorithm: ChecksumAlgorithm) {
        let data = Self.data
        let whole = digest(data[...], algorithm)
        let sizes = [0, 1, 0, 0, 1, 1, 7, 3 << 20, 0, 1, 4 << 20 + 13, 1, 0]
        var parts: [(digest: [UInt8], length: Int64)] = []
        var offset = 0
        for size in sizes {
            parts.append(piece(data[offset..<offset + size], algorithm))
            offset += size
        }
        parts.append(piece(data[offset...], algorithm))  // the rest, ~2 MiB
        #expect(algorithm.combineFullObject(parts) == whole)
        #expect(algorithm.combineFullObject([piece(data[...], algorithm)]) == whole)
        #expect(algorithm.combineFullObject([piece(data[...], algorithm), piece(data[0..<0], algorithm)]) == whole)
    }

    /// Random cut points, sizes skewed towards 0, 1 and small values but up to ~1 MiB.
    @Test(arguments: crcAlgorithms)
    func randomSplitsMatchWholeDigest(_ algorithm: ChecksumAlgorithm) {
        let data = Self.data[..<(3 << 20)]
        let whole = digest(data, algorithm)
        var generator = SplitMix64(seed: 7)
        for round in 0..<12 {
            var parts: [(digest: [UInt8], length: Int64)] = []
            var offset = data.startIndex
            while offset < data.endIndex {
                let r = generator.next()
                let size = switch r % 4 {
                case 0: Int((r >> 8) % 2)  // 0 or 1 byte
                case 1: Int((r >> 8) % 100)
                default: Int((r >> 8) % (1 << 20))
                }
                let end = min(data.endIndex, offset + size)
                parts.append(piece(data[offset..<end], algorithm))
                offset = end
            }
            #expect(algorithm.combineFullObject(parts) == whole, "round \(round), \(parts.count) parts")
        }
    }

    /// 10,000 small parts (0–199 bytes): the fold must be correct and quick to run.
    @Test(arguments: crcAlgorithms)
    func tenThousandPartFold(_ algorithm: ChecksumAlgorithm) throws {
        var generator = SplitMix64(seed: 10_000)
        var parts: [(digest: [UInt8], length: Int64)] = []
        parts.reserveCapacity(10_000)
        var offset = 0
        for _ in 0..<10_000 {
            let end = offset + Int(generator.next() % 200)
            parts.append(piece(Self.data[offset..<end], algorithm))
            offset = end
        }
        let folded = try #require(algorithm.combineFullObject(parts))
        #expect(folded == digest(Self.data[..<offset], algorithm))
    }

    // MARK: Lengths beyond what we can hash

    /// zlib's own combine is an independent reference for CRC-32, up to the largest Int64.
    /// (Swift sees `crc32_combine`, not `crc32_combine64`, since the module map does not define
    /// _LARGEFILE64_SOURCE; its z_off_t is `long`, i.e. Int, 64 bits on the LP64 platforms we build for.)
    @Test func crc32AgreesWithZlibCombine() {
        var generator = SplitMix64(seed: 32)
        let lengths: [Int64] = [1, 2, 3, 4, 5, 8, 100, 4096, 5 << 20, 5 << 30, 5 << 40, 1 << 62, .max - 1, .max]
        for length in lengths {
            for _ in 0..<20 {
                let a = UInt32(truncatingIfNeeded: generator.next())
                let b = UInt32(truncatingIfNeeded: generator.next())
                let reference = crc32_combine(UInt(a), UInt(b), Int(length))
                #expect(UInt(CRCCombine.crc32(a, b, lengthOfB: length)) == reference, "length \(length)")
            }
        }
    }

    /// Grouping must not matter, including lengths far past any real object.
    @Test func combineIsAssociativeForHugeLengths() {
        var generator = SplitMix64(seed: 64)
        for _ in 0..<200 {
            let (a, b, c) = (generator.next(), generator.next(), generator.next())
            let n1 = Int64(generator.next() >> 2), n2 = Int64(generator.next() >> 2)  // sum < Int64.max
            let left = CRCCombine.crc64nvme(CRCCombine.crc64nvme(a, b, lengthOfB: n1), c, lengthOfB: n2)
            let right = CRCCombine.crc64nvme(a, CRCCombine.crc64nvme(b, c, lengthOfB: n2), lengthOfB: n1 + n2)
            #expect(left == right)
            let (a32, b32, c32) = (UInt32(truncatingIfNeeded: a), UInt32(truncatingIfNeeded: b), UInt32(truncatingIfNeeded: c))
            let left32 = CRCCombine.crc32c(CRCCombine.crc32c(a32, b32, lengthOfB: n1), c32, lengthOfB: n2)
            let right32 = CRCCombine.crc32c(a32, CRCCombine.crc32c(b32, c32, lengthOfB: n2), lengthOfB: n1 + n2)
            #expect(left32 == right32)
        }
    }

    @Test func zeroLengthReturnsFirstCRC() {
        #expect(CRCCombine.crc32(0x1234_5678, 0, lengthOfB: 0) == 0x1234_5678)
        #expect(CRCCombine.crc32c(0x1234_5678, 0xFFFF_FFFF, lengthOfB: 0) == 0x1234_5678)
        #expect(CRCCombine.crc64nvme(0x0123_4567_89AB_CDEF, 42, lengthOfB: 0) == 0x0123_4567_89AB_CDEF)
        #expect(CRCCombine.crc32(0, 0xCBF4_3926, lengthOfB: 9) == 0xCBF4_3926)  // nothing before B
    }

    // MARK: ChecksumAlgorithm API

    @Test(arguments: ChecksumAlgorithm.allCases)
    func supportAndEdgeCases(_ algorithm: ChecksumAlgorithm) {
        let isCRC = Self.crcAlgorithms.contains(algorithm)
        #expect(algorithm.supportsFullObjectCombine == isCRC)
        let one = piece(Self.check[...], algorithm)
        if isCRC {
            #expect(algorithm.combineFullObject([]) == [UInt8](repeating: 0, count: algorithm.digestLength))
            #expect(algorithm.combineFullObject([]) == digest(Self.check[0..<0], algorithm))
            #expect(algorithm.combineFullObject([one]) == one.digest)
            #expect(algorithm.combineFullObject([(one.digest + [0], 9)]) == nil)
            #expect(algorithm.combineFullObject([(Array(one.digest.dropLast()), 9)]) == nil)
            #expect(algorithm.combineFullObject([one, (one.digest, -1)]) == nil)
        } else {
            #expect(algorithm.combineFullObject([]) == nil)
            #expect(algorithm.combineFullObject([one]) == nil)
        }
    }

    // MARK: Helpers

    private func digest(_ bytes: ArraySlice<UInt8>, _ algorithm: ChecksumAlgorithm) -> [UInt8] {
        var digest = algorithm.makeDigest()
        digest.update(bytes)
        return digest.finalize()
    }

    private func piece(_ bytes: ArraySlice<UInt8>, _ algorithm: ChecksumAlgorithm) -> (digest: [UInt8], length: Int64) {
        (digest(bytes, algorithm), Int64(bytes.count))
    }

    private func bigEndian(_ value: UInt64, count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64(count - 1 - $0))) }
    }

    private func integer(_ bytes: [UInt8]) -> UInt64 { bytes.reduce(0) { $0 << 8 | UInt64($1) } }
    private func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 { UInt32(integer(digest(bytes, .crc32))) }
    private func crc32c(_ bytes: ArraySlice<UInt8>) -> UInt32 { UInt32(integer(digest(bytes, .crc32c))) }
    private func crc64(_ bytes: ArraySlice<UInt8>) -> UInt64 { integer(digest(bytes, .crc64nvme)) }
}
