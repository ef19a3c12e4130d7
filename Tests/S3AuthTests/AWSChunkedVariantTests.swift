import NIOCore
import S3Auth
import Testing

/// Framings real clients send that the decoder accepts.
struct AWSChunkedVariantTests {
    typealias Examples = AWSChunkedExampleTests

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let config: AWSChunkedConfig
        let wire: String
        let body: String
        let trailers: [String: String]
        var testDescription: String { name }
    }

    static func unsigned(_ trailers: [String], length: Int64? = 11) -> AWSChunkedConfig {
        AWSChunkedConfig(signing: nil, trailerNames: trailers, signedTrailer: false, decodedContentLength: length)
    }

    static let cases: [Case] = [
        // botocore's AwsChunkedWrapper (botocore/httpchecksum.py) over HTTPS: "0\r\n" then the trailer.
        Case(name: "botocore CRC32 trailer", config: unsigned(["x-amz-checksum-crc32"]),
             wire: "b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n", body: "hello world",
             trailers: ["x-amz-checksum-crc32": "DUoRhQ=="]),
        Case(name: "botocore without checksum", config: unsigned([]),
             wire: "b\r\nhello world\r\n0\r\n\r\n", body: "hello world", trailers: [:]),
        Case(name: "empty body", config: unsigned(["x-amz-checksum-crc32"], length: 0),
             wire: "0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n", body: "", trailers: ["x-amz-checksum-crc32": "AAAAAA=="]),
        Case(name: "several small chunks", config: unsigned([]),
             wire: "5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n", body: "hello world", trailers: [:]),
        Case(name: "bare LF line ends", config: unsigned(["x-amz-checksum-crc32"]),
             wire: "b\nhello world\n0\nx-amz-checksum-crc32:DUoRhQ==\n\n", body: "hello world",
             trailers: ["x-amz-checksum-crc32": "DUoRhQ=="]),
        Case(name: "blank line before the trailers", config: unsigned(["x-amz-checksum-crc32"]),
             wire: "b\r\nhello world\r\n0\r\n\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n", body: "hello world",
             trailers: ["x-amz-checksum-crc32": "DUoRhQ=="]),
        Case(name: "no closing blank line", config: unsigned(["x-amz-checksum-crc32"]),
             wire: "b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n", body: "hello world",
             trailers: ["x-amz-checksum-crc32": "DUoRhQ=="]),
        Case(name: "last trailer line without line end", config: unsigned(["x-amz-checksum-crc32"]),
             wire: "b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==", body: "hello world",
             trailers: ["x-amz-checksum-crc32": "DUoRhQ=="]),
        Case(name: "uppercase hex size, extension and spaces", config: unsigned([]),
             wire: "B;foo=bar\r\nhello world\r\n0\r\n\r\n", body: "hello world", trailers: [:]),
        Case(name: "trailer name case and spaces", config: unsigned(["x-amz-checksum-crc32"]),
             wire: "b\r\nhello world\r\n0\r\nX-Amz-Checksum-CRC32 : DUoRhQ== \r\n\r\n", body: "hello world",
             trailers: ["x-amz-checksum-crc32": "DUoRhQ=="]),
        Case(name: "AWS trailer example, blank line before trailers", config: Examples.trailerConfig,
             wire: String(decoding: Examples.trailerWire, as: UTF8.self)
                .replacingOccurrences("f992\r\nx-amz", with: "f992\r\n\r\nx-amz"),
             body: String(repeating: "a", count: 66560), trailers: ["x-amz-checksum-crc32c": "sOO8/Q=="]),
        Case(name: "AWS trailer example, blank line before the signature", config: Examples.trailerConfig,
             wire: String(decoding: Examples.trailerWire, as: UTF8.self)
                .replacingOccurrences("Q==\r\nx-amz-trailer", with: "Q==\n\r\nx-amz-trailer"),
             body: String(repeating: "a", count: 66560), trailers: ["x-amz-checksum-crc32c": "sOO8/Q=="]),
        Case(name: "AWS trailer example, body ends after the signature", config: Examples.trailerConfig,
             wire: String(decoding: Examples.trailerWire.dropLast(4), as: UTF8.self),
             body: String(repeating: "a", count: 66560), trailers: ["x-amz-checksum-crc32c": "sOO8/Q=="]),
        Case(name: "stray line ends after the end", config: unsigned([]),
             wire: "b\r\nhello world\r\n0\r\n\r\n\r\n", body: "hello world", trailers: [:]),
    ]

    @Test(arguments: cases)
    func accepts(_ testCase: Case) throws {
        let wire = Array(testCase.wire.utf8)
        for pieces in [[wire.count], Array(repeating: 1, count: wire.count), [3, 5, 7, 11, 13]] {
            var decoder = AWSChunkedDecoder(config: testCase.config)
            let result = try decoder.decodeAll(wire, pieces: pieces)
            #expect(String(decoding: result.body, as: UTF8.self) == testCase.body)
            #expect(result.trailers == testCase.trailers)
        }
    }
}
