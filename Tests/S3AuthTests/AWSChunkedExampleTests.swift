import Digest
import NIOCore
import S3Auth
import Testing

/// The published aws-chunked examples: a 66560-byte object of 'a' sent as 65536 + 1024 + 0-byte
/// chunks, https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html, and the same
/// object with a signed CRC32C trailer, https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html.
struct AWSChunkedExampleTests {
    /// The SigV4 signing key for 20130524/us-east-1/s3 (checked against an independent Python HMAC).
    static let signingKey: [UInt8] = {
        let date = HMAC.sha256(key: Array("AWS4\(Example.secretKey)".utf8), message: "20130524".utf8)
        let region = HMAC.sha256(key: date, message: "us-east-1".utf8)
        let service = HMAC.sha256(key: region, message: "s3".utf8)
        return HMAC.sha256(key: service, message: "aws4_request".utf8)
    }()

    static func context(seed: String) -> ChunkSigningContext {
        ChunkSigningContext(
            signingKey: signingKey, amzDate: "20130524T000000Z", scope: "20130524/us-east-1/s3/aws4_request",
            seedSignature: seed)
    }

    static let payload = [UInt8](repeating: UInt8(ascii: "a"), count: 66560)

    static func wire(signatures: [String], trailer: String = "\r\n") -> [UInt8] {
        var bytes = Array("10000;chunk-signature=\(signatures[0])\r\n".utf8)
        bytes += payload[..<65536]
        bytes += Array("\r\n400;chunk-signature=\(signatures[1])\r\n".utf8)
        bytes += payload[65536...]
        bytes += Array("\r\n0;chunk-signature=\(signatures[2])\r\n".utf8)
        return bytes + Array(trailer.utf8)
    }

    static let signedConfig = AWSChunkedConfig(
        signing: context(seed: "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"),
        trailerNames: [], signedTrailer: false, decodedContentLength: 66560)
    static let signedWire = wire(signatures: [
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
    ])

    static let trailerConfig = AWSChunkedConfig(
        signing: context(seed: "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"),
        trailerNames: ["x-amz-checksum-crc32c"], signedTrailer: true, decodedContentLength: 66560)
    static let trailerWire = wire(
        signatures: [
            "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
            "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
            "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
        ],
        trailer: "x-amz-checksum-crc32c:sOO8/Q==\r\n"
            + "x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n\r\n")

    @Test func signingKeyMatchesIndependentComputation() {
        #expect(Self.signingKey.hexString == "dbb893acc010964918f1fd433add87c70e8b0db6be30c1fbeafefa5ec6ba8378")
    }

    /// Named ways of cutting the wire bytes into reads.
    static let splits: [(name: String, pieces: @Sendable (Int) -> [Int])] = [
        ("whole", { [$0] }),
        ("byte at a time", { Array(repeating: 1, count: $0) }),
        ("7-byte reads", { Array(repeating: 7, count: $0 / 7 + 1) }),
        ("4 KiB reads", { Array(repeating: 4096, count: $0 / 4096 + 1) }),
        ("cut inside the first header", { [10, $0] }),
        ("cut between CR and LF", { [88 + 65536 + 1, $0] }),
        ("random", { count in
            var generator = SeededGenerator(seed: 7)
            return (0..<count).map { _ in Int(generator.next() % 300) + 1 }
        }),
    ]

    @Test(arguments: splits.map(\.name))
    func signedExampleDecodesInEverySplit(_ split: String) throws {
        let pieces = try #require(Self.splits.first { $0.name == split }).pieces(Self.signedWire.count)
        var decoder = AWSChunkedDecoder(config: Self.signedConfig)
        let result = try decoder.decodeAll(Self.signedWire, pieces: pieces)
        #expect(result.body == Self.payload)
        #expect(result.trailers.isEmpty)
        #expect(decoder.decodedByteCount == 66560)
    }

    @Test(arguments: splits.map(\.name))
    func signedTrailerExampleDecodesInEverySplit(_ split: String) throws {
        let pieces = try #require(Self.splits.first { $0.name == split }).pieces(Self.trailerWire.count)
        var decoder = AWSChunkedDecoder(config: Self.trailerConfig)
        let result = try decoder.decodeAll(Self.trailerWire, pieces: pieces)
        #expect(result.body == Self.payload)
        #expect(result.trailers == ["x-amz-checksum-crc32c": "sOO8/Q=="])
    }

    @Test func randomSplitsManySeeds() throws {
        for seed in 1...30 {
            var generator = SeededGenerator(seed: UInt64(seed))
            let pieces = (0..<200).map { _ in Int(generator.next() % 20_000) + 1 }
            var decoder = AWSChunkedDecoder(config: Self.trailerConfig)
            let result = try decoder.decodeAll(Self.trailerWire, pieces: pieces)
            #expect(result.body == Self.payload, "seed \(seed)")
        }
    }

    @Test func trailerChecksumMatchesTheData() throws {
        var crc = CRC32C()
        crc.update(Self.payload)
        #expect(crc.finalize().base64String == "sOO8/Q==")
    }

    @Test func decodedSlicesShareTheInputStorage() throws {
        var decoder = AWSChunkedDecoder(config: Self.signedConfig)
        let slices = try decoder.decode(ByteBuffer(bytes: Self.signedWire))
        #expect(slices.map(\.readableBytes) == [65536, 1024])
    }
}
