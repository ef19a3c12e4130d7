import Digest
import Testing

/// Feeding the same bytes in pieces must give the one-shot result, for every algorithm.
struct SplitUpdateTests {
    static let data: [UInt8] = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ ($0 >> 9)) }

    static let digests: [(name: String, make: @Sendable () -> any StreamingDigest)] = [
        ("MD5", { MD5() }), ("SHA1", { SHA1() }), ("SHA256", { SHA256() }),
        ("CRC32", { CRC32() }), ("CRC32C", { CRC32C() }), ("CRC64NVME", { CRC64NVME() }),
    ]

    @Test(arguments: digests.map(\.name))
    func randomSplitsMatchOneShot(_ name: String) throws {
        let make = try #require(Self.digests.first { $0.name == name }).make
        var whole = make()
        whole.update(Self.data)
        let expected = whole.finalize()

        var generator = SplitMix64(seed: 42)
        for _ in 0..<20 {
            var digest = make()
            var offset = 0
            while offset < Self.data.count {
                let size = Int(generator.next() % 5000)
                let end = min(Self.data.count, offset + size)
                digest.update(Self.data[offset..<end])
                offset = end
            }
            #expect(digest.finalize() == expected)
        }
    }

    @Test(arguments: digests.map(\.name))
    func emptyUpdatesChangeNothing(_ name: String) throws {
        let make = try #require(Self.digests.first { $0.name == name }).make
        var plain = make()
        plain.update("abc".utf8)
        var padded = make()
        padded.update([UInt8]())
        padded.update("ab".utf8)
        padded.update([UInt8]())
        padded.update("c".utf8)
        #expect(plain.finalize() == padded.finalize())
    }
}

/// A small deterministic generator, so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
