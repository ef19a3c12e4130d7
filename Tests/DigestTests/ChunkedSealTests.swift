import Testing

@testable import Digest

@Suite("ChunkedSeal")
struct ChunkedSealTests {
    static let key: [UInt8] = (0..<32).map { UInt8($0 &* 7 &+ 3) }
    static let chunk = 1000

    static func plaintext(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
    }

    /// Seals `data`, fed in pieces of `piece` bytes.
    static func seal(_ data: [UInt8], header: ChunkedSeal.Header, piece: Int) throws -> [UInt8] {
        var sealer = try ChunkedSeal.Sealer(key: key, header: header)
        var sealed: [UInt8] = []
        var offset = 0
        while offset < data.count {
            let end = min(offset + piece, data.count)
            sealed += data[offset..<end].withUnsafeBytes { sealer.update($0) }
            offset = end
        }
        return sealed + sealer.finish()
    }

    /// Opens the chunks of a sealed blob that `plan` names and returns the plaintext of `range`.
    static func open(_ sealed: [UInt8], range: Range<Int64>, size: Int64, key: [UInt8] = key) throws -> [UInt8] {
        let header = try ChunkedSeal.Header(parsing: sealed)
        let plan = header.plan(plaintext: range, plaintextSize: size)
        let opener = try ChunkedSeal.Opener(key: key, header: header)
        var plain: [UInt8] = []
        var offset = Int(plan.sealedBytes.lowerBound)
        for index in plan.chunks {
            let plainLength = Int(min(Int64(header.chunkSize), size - index * Int64(header.chunkSize)))
            let end = offset + max(0, plainLength) + ChunkedSeal.tagSize
            guard end <= sealed.count else { throw ChunkedSeal.Failure.authenticationFailed(chunk: index) }
            plain += try sealed[offset..<end].withUnsafeBytes { try opener.open($0, chunk: index, isFinal: index == plan.finalChunk) }
            offset = end
        }
        #expect(offset == Int(plan.sealedBytes.upperBound), "the plan's end is where the last chunk ends")
        return Array(plain.dropFirst(plan.skip).prefix(range.count))
    }

    struct SizeCase: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let size: Int
        let piece: Int
    }

    @Test("round-trips whole, in any feeding, at every size around chunk boundaries", arguments: [
        SizeCase(testDescription: "empty", size: 0, piece: 1),
        SizeCase(testDescription: "one byte", size: 1, piece: 1),
        SizeCase(testDescription: "a chunk less one", size: chunk - 1, piece: 7),
        SizeCase(testDescription: "exactly a chunk", size: chunk, piece: chunk),
        SizeCase(testDescription: "a chunk and one", size: chunk + 1, piece: 333),
        SizeCase(testDescription: "three chunks exactly, fed whole", size: 3 * chunk, piece: 3 * chunk),
        SizeCase(testDescription: "three chunks and five, byte by byte", size: 3 * chunk + 5, piece: 1),
    ])
    func roundTrip(_ blob: SizeCase) throws {
        let header = ChunkedSeal.Header(chunkSize: Self.chunk)
        let data = Self.plaintext(blob.size)
        let sealed = try Self.seal(data, header: header, piece: blob.piece)
        #expect(Int64(sealed.count) == header.sealedSize(plaintextSize: Int64(blob.size)))
        #expect(header.plaintextSize(sealedSize: Int64(sealed.count)) == Int64(blob.size))
        #expect(header.plaintextSize(sealedSize: Int64(sealed.count) + 1) != Int64(blob.size))
        #expect(try Self.open(sealed, range: 0..<Int64(blob.size), size: Int64(blob.size)) == data)
        if blob.size >= 64 {
            // The plaintext appears nowhere in the sealed bytes.
            let marker = Array(data[10..<42])
            #expect(!sealed.indices.dropLast(31).contains { Array(sealed[$0..<$0 + 32]) == marker })
        }
    }

    struct RangeCase: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let range: Range<Int64>
        let chunks: Range<Int64>
        let skip: Int
    }

    static let rangeSize: Int64 = 3 * 1000 + 5

    @Test("a ranged read opens only the chunks that hold the range", arguments: [
        RangeCase(testDescription: "inside the first chunk", range: 10..<20, chunks: 0..<1, skip: 10),
        RangeCase(testDescription: "across a boundary", range: 990..<1010, chunks: 0..<2, skip: 990),
        RangeCase(testDescription: "exactly the second chunk", range: 1000..<2000, chunks: 1..<2, skip: 0),
        RangeCase(testDescription: "the short last chunk", range: 3000..<3005, chunks: 3..<4, skip: 0),
        RangeCase(testDescription: "the last byte", range: 3004..<3005, chunks: 3..<4, skip: 4),
        RangeCase(testDescription: "everything", range: 0..<rangeSize, chunks: 0..<4, skip: 0),
    ])
    func ranges(_ read: RangeCase) throws {
        let header = ChunkedSeal.Header(chunkSize: Self.chunk)
        let data = Self.plaintext(Int(Self.rangeSize))
        let sealed = try Self.seal(data, header: header, piece: 4096)
        let plan = header.plan(plaintext: read.range, plaintextSize: Self.rangeSize)
        #expect(plan.chunks == read.chunks)
        #expect(plan.skip == read.skip)
        #expect(plan.sealedBytes.count == read.chunks.reduce(0) { total, index in
            total + min(1000, Self.rangeSize - index * 1000) + 16
        })
        let expected = Array(data[Int(read.range.lowerBound)..<Int(read.range.upperBound)])
        #expect(try Self.open(sealed, range: read.range, size: Self.rangeSize) == expected)
    }

    struct TamperCase: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let tamper: @Sendable ([UInt8]) -> [UInt8]
    }

    @Test("a tampered, reordered, cut or re-keyed blob is detected, never returned", arguments: [
        TamperCase(testDescription: "a ciphertext byte flipped") { var s = $0; s[30] ^= 1; return s },
        TamperCase(testDescription: "a tag byte flipped") { var s = $0; s[24 + 1000 + 3] ^= 0x80; return s },
        TamperCase(testDescription: "the salt changed") { var s = $0; s[9] ^= 1; return s },
        TamperCase(testDescription: "the first two chunks swapped") { s in
            let a = Array(s[24..<1040]), b = Array(s[1040..<2056])
            return Array(s[0..<24]) + b + a + Array(s[2056...])
        },
        TamperCase(testDescription: "cut after the second chunk") { Array($0.prefix(24 + 2 * 1016)) },
        TamperCase(testDescription: "the last byte dropped") { Array($0.dropLast()) },
    ])
    func tampering(_ damage: TamperCase) throws {
        let header = ChunkedSeal.Header(chunkSize: Self.chunk)
        let size = Self.rangeSize
        let sealed = damage.tamper(try Self.seal(Self.plaintext(Int(size)), header: header, piece: 512))
        #expect(throws: ChunkedSeal.Failure.self) { _ = try Self.open(sealed, range: 0..<size, size: size) }
    }

    @Test("a blob cut at a chunk boundary fails even when read as if it were whole at that length")
    func cutAtBoundary() throws {
        let header = ChunkedSeal.Header(chunkSize: Self.chunk)
        let sealed = try Self.seal(Self.plaintext(3 * Self.chunk), header: header, piece: Self.chunk)
        let cut = Array(sealed.prefix(24 + 2 * (Self.chunk + 16)))
        // Its second chunk was sealed as not the last: it does not open as the final one.
        #expect(throws: ChunkedSeal.Failure.authenticationFailed(chunk: 1)) {
            _ = try Self.open(cut, range: 0..<Int64(2 * Self.chunk), size: Int64(2 * Self.chunk))
        }
    }

    @Test("another key opens nothing; a foreign header is no format of ours")
    func wrongKeyAndFormat() throws {
        let sealed = try Self.seal(Self.plaintext(50), header: ChunkedSeal.Header(chunkSize: Self.chunk), piece: 50)
        var otherKey = Self.key
        otherKey[0] ^= 1
        #expect(throws: ChunkedSeal.Failure.self) { _ = try Self.open(sealed, range: 0..<50, size: 50, key: otherKey) }
        #expect(throws: ChunkedSeal.Failure.unknownFormat) { _ = try ChunkedSeal.Header(parsing: Array("plain text, not a sealed blob".utf8)) }
        #expect(throws: AESGCM.Failure.badKey) { _ = try ChunkedSeal.Sealer(key: [1, 2, 3]) }
    }

    @Test("headers round-trip, and each new one has its own salt")
    func headers() throws {
        let header = ChunkedSeal.Header(chunkSize: 65536)
        #expect(try ChunkedSeal.Header(parsing: header.bytes) == header)
        #expect(header.bytes.count == ChunkedSeal.headerSize)
        #expect(ChunkedSeal.Header().salt != ChunkedSeal.Header().salt)
    }
}
