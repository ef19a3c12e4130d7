import Digest
import Testing

/// Known-answer vectors, computed independently with Python's hashlib, zlib and a bit-at-a-time CRC.
struct DigestVectorTests {
    struct Vector: CustomTestStringConvertible, Sendable {
        let name: String
        let algorithm: ChecksumAlgorithm?
        let make: @Sendable () -> any StreamingDigest
        let input: String
        let hex: String
        var testDescription: String { "\(name)(\(input.prefix(12).debugDescription))" }
    }

    static let fox = "The quick brown fox jumps over the lazy dog"

    static let vectors: [Vector] = [
        Vector(name: "MD5", algorithm: nil, make: { MD5() }, input: "", hex: "d41d8cd98f00b204e9800998ecf8427e"),
        Vector(name: "MD5", algorithm: nil, make: { MD5() }, input: "123456789", hex: "25f9e794323b453885f5181f1b624d0b"),
        Vector(name: "MD5", algorithm: nil, make: { MD5() }, input: fox, hex: "9e107d9d372bb6826bd81d3542a419d6"),
        Vector(name: "SHA1", algorithm: .sha1, make: { SHA1() }, input: "", hex: "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        Vector(name: "SHA1", algorithm: .sha1, make: { SHA1() }, input: "123456789", hex: "f7c3bc1d808e04732adf679965ccc34ca7ae3441"),
        Vector(name: "SHA1", algorithm: .sha1, make: { SHA1() }, input: fox, hex: "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"),
        Vector(name: "SHA256", algorithm: .sha256, make: { SHA256() }, input: "",
               hex: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        Vector(name: "SHA256", algorithm: .sha256, make: { SHA256() }, input: "123456789",
               hex: "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225"),
        Vector(name: "SHA256", algorithm: .sha256, make: { SHA256() }, input: fox,
               hex: "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"),
        Vector(name: "CRC32", algorithm: .crc32, make: { CRC32() }, input: "", hex: "00000000"),
        Vector(name: "CRC32", algorithm: .crc32, make: { CRC32() }, input: "123456789", hex: "cbf43926"),
        Vector(name: "CRC32", algorithm: .crc32, make: { CRC32() }, input: fox, hex: "414fa339"),
        Vector(name: "CRC32C", algorithm: .crc32c, make: { CRC32C() }, input: "", hex: "00000000"),
        Vector(name: "CRC32C", algorithm: .crc32c, make: { CRC32C() }, input: "123456789", hex: "e3069283"),
        Vector(name: "CRC32C", algorithm: .crc32c, make: { CRC32C() }, input: fox, hex: "22620404"),
        Vector(name: "CRC64NVME", algorithm: .crc64nvme, make: { CRC64NVME() }, input: "", hex: "0000000000000000"),
        Vector(name: "CRC64NVME", algorithm: .crc64nvme, make: { CRC64NVME() }, input: "123456789",
               hex: "ae8b14860a799888"),
        Vector(name: "CRC64NVME", algorithm: .crc64nvme, make: { CRC64NVME() }, input: fox, hex: "d76c54054954c143"),
        Vector(name: "CRC64NVME", algorithm: .crc64nvme, make: { CRC64NVME() },
               input: String(repeating: "a", count: 1000), hex: "eab3232b2997f5e5"),
        Vector(name: "CRC32C", algorithm: .crc32c, make: { CRC32C() },
               input: String(repeating: "a", count: 1000), hex: "9f19ef6a"),
    ]

    @Test(arguments: vectors)
    func oneShot(_ vector: Vector) {
        var digest = vector.make()
        digest.update(vector.input.utf8)
        #expect(digest.finalize().hexString == vector.hex)
    }

    @Test(arguments: vectors)
    func byteAtATime(_ vector: Vector) {
        var digest = vector.make()
        for byte in vector.input.utf8 {
            digest.update([byte])
        }
        #expect(digest.finalize().hexString == vector.hex)
    }

    @Test(arguments: vectors.filter { $0.algorithm != nil })
    func throughChecksumAlgorithm(_ vector: Vector) throws {
        let algorithm = try #require(vector.algorithm)
        var digest = algorithm.makeDigest()
        digest.update(Array(vector.input.utf8))
        let result = digest.finalize()
        #expect(result.count == algorithm.digestLength)
        #expect(result.hexString == vector.hex)
    }

    @Test func finalizeStartsOver() {
        var digest = SHA256()
        digest.update("junk".utf8)
        _ = digest.finalize()
        digest.update("123456789".utf8)
        #expect(digest.finalize().hexString == "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225")
    }

    @Test func staticSHA256Hash() {
        #expect(SHA256.hash(Self.fox.utf8).hexString
            == "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592")
    }

    @Test func crc32FinalizesBigEndianAsS3Base64() {
        var digest = CRC32()
        digest.update(Self.fox.utf8)
        #expect(digest.finalize().base64String == "QU+jOQ==")
    }

    @Test func copyMidStreamIsIndependent() {
        var first = SHA256()
        first.update("1234".utf8)
        var second = first
        first.update("56789".utf8)
        second.update("xyz".utf8)
        var third = second
        #expect(first.finalize().hexString == SHA256.hash("123456789".utf8).hexString)
        #expect(second.finalize().hexString == SHA256.hash("1234xyz".utf8).hexString)
        #expect(third.finalize().hexString == SHA256.hash("1234xyz".utf8).hexString)
    }

    @Test func nonContiguousSequence() {
        var digest = MD5()
        digest.update(Self.fox.utf8.lazy.map { $0 })
        #expect(digest.finalize().hexString == "9e107d9d372bb6826bd81d3542a419d6")
    }
}
