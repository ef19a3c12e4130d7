import NIOCore
import S3Auth
import Testing

/// Bodies the decoder must refuse, each with the S3 error it answers.
struct AWSChunkedFailureTests {
    typealias Examples = AWSChunkedExampleTests

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let config: AWSChunkedConfig
        let wire: [UInt8]
        let code: AuthFailure.Code
        var testDescription: String { name }
    }

    static func replacing(_ wire: [UInt8], _ old: String, with new: String) -> [UInt8] {
        let text = String(decoding: wire, as: UTF8.self)
        return Array(text.replacingOccurrences(old, with: new).utf8)
    }

    static let unsignedTrailer = AWSChunkedConfig(
        signing: nil, trailerNames: ["x-amz-checksum-crc32"], signedTrailer: false, decodedContentLength: 11)
    static let unsignedWire = Array("b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n".utf8)

    static let cases: [Case] = [
        Case(name: "tampered data byte", config: Examples.signedConfig,
             wire: { var w = Examples.signedWire; w[100] = UInt8(ascii: "b"); return w }(), code: .signatureDoesNotMatch),
        Case(name: "tampered chunk signature", config: Examples.signedConfig,
             wire: replacing(Examples.signedWire, "0055627c", with: "0055627d"), code: .signatureDoesNotMatch),
        Case(name: "chunks swapped signature chain", config: Examples.signedConfig,
             wire: replacing(Examples.signedWire, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
                             with: "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"),
             code: .signatureDoesNotMatch),
        Case(name: "missing chunk-signature", config: Examples.signedConfig,
             wire: replacing(Examples.signedWire, "400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497", with: "400"),
             code: .signatureDoesNotMatch),
        Case(name: "tampered trailer value", config: Examples.trailerConfig,
             wire: replacing(Examples.trailerWire, "sOO8/Q==", with: "sOO8/R=="), code: .signatureDoesNotMatch),
        Case(name: "tampered trailer signature", config: Examples.trailerConfig,
             wire: replacing(Examples.trailerWire, "d81f82fc", with: "d81f82fd"), code: .signatureDoesNotMatch),
        Case(name: "signed trailer without signature", config: Examples.trailerConfig,
             wire: replacing(Examples.trailerWire,
                             "x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n", with: ""),
             code: .malformedTrailerError),
        Case(name: "truncated in the data", config: Examples.signedConfig,
             wire: Array(Examples.signedWire[..<40_000]), code: .incompleteBody),
        Case(name: "truncated before the final chunk", config: Examples.signedConfig,
             wire: Array(Examples.signedWire[..<(88 + 65536 + 2 + 86 + 1024 + 2)]), code: .incompleteBody),
        Case(name: "truncated inside the final chunk header", config: unsignedTrailer,
             wire: Array("b\r\nhello world\r\n0".utf8), code: .incompleteBody),
        Case(name: "decoded length shorter than declared",
             config: AWSChunkedConfig(signing: nil, trailerNames: [], signedTrailer: false, decodedContentLength: 12),
             wire: Array("b\r\nhello world\r\n0\r\n\r\n".utf8), code: .incompleteBody),
        Case(name: "decoded length longer than declared",
             config: AWSChunkedConfig(signing: nil, trailerNames: [], signedTrailer: false, decodedContentLength: 5),
             wire: Array("b\r\nhello world\r\n0\r\n\r\n".utf8), code: .incompleteBody),
        Case(name: "chunk size not hex", config: unsignedTrailer,
             wire: Array("xb\r\nhello world\r\n0\r\n\r\n".utf8), code: .invalidChunkSizeError),
        Case(name: "chunk size absurd", config: unsignedTrailer,
             wire: Array("ffffffffffffffffff\r\n".utf8), code: .invalidChunkSizeError),
        Case(name: "chunk size empty", config: unsignedTrailer,
             wire: Array(";x=y\r\nhello".utf8), code: .invalidChunkSizeError),
        Case(name: "data longer than its chunk size", config: unsignedTrailer,
             wire: Array("a\r\nhello world\r\n0\r\n\r\n".utf8), code: .incompleteBody),
        Case(name: "endless chunk header", config: unsignedTrailer,
             wire: Array(repeating: UInt8(ascii: "0"), count: 5000), code: .incompleteBody),
        Case(name: "endless trailer line", config: unsignedTrailer,
             wire: Array("b\r\nhello world\r\n0\r\n".utf8) + Array(repeating: UInt8(ascii: "x"), count: 5000),
             code: .malformedTrailerError),
        Case(name: "unannounced trailer", config: unsignedTrailer,
             wire: Array("b\r\nhello world\r\n0\r\nx-amz-checksum-sha1:AAAA\r\n\r\n".utf8), code: .malformedTrailerError),
        Case(name: "announced trailer missing", config: unsignedTrailer,
             wire: Array("b\r\nhello world\r\n0\r\n\r\n".utf8), code: .malformedTrailerError),
        Case(name: "trailer line without colon", config: unsignedTrailer,
             wire: Array("b\r\nhello world\r\n0\r\nx-amz-checksum-crc32 DUoRhQ==\r\n\r\n".utf8), code: .malformedTrailerError),
        Case(name: "duplicate trailer", config: unsignedTrailer,
             wire: Array("b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:A\r\nx-amz-checksum-crc32:B\r\n\r\n".utf8),
             code: .malformedTrailerError),
        Case(name: "trailer signature on an unsigned body", config: unsignedTrailer,
             wire: Array("b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\nx-amz-trailer-signature:00\r\n\r\n".utf8),
             code: .malformedTrailerError),
        Case(name: "data after the end", config: unsignedTrailer,
             wire: unsignedWire + Array("junk".utf8), code: .incompleteBody),
    ]

    @Test(arguments: cases)
    func refuses(_ testCase: Case) {
        for pieces in [[testCase.wire.count], Array(repeating: 1, count: testCase.wire.count)] {
            var decoder = AWSChunkedDecoder(config: testCase.config)
            let error = failure { () throws(AuthFailure) in try decoder.decodeAll(testCase.wire, pieces: pieces) }
            #expect(error?.code == testCase.code, "\(pieces.count) pieces: \(String(describing: error))")
        }
    }

    /// A bad chunk must fail in the call that completes it, before any later chunk is returned.
    @Test func tamperedChunkFailsWhenItCompletes() throws {
        var wire = Examples.signedWire
        wire[100] = UInt8(ascii: "b")
        var decoder = AWSChunkedDecoder(config: Examples.signedConfig)
        let firstChunkEnd = 88 + 65536
        _ = try decoder.decode(ByteBuffer(bytes: wire[..<(firstChunkEnd - 1)]))
        let error = failure { () throws(AuthFailure) in try decoder.decode(ByteBuffer(bytes: wire[(firstChunkEnd - 1)..<firstChunkEnd])) }
        #expect(error?.code == .signatureDoesNotMatch)
    }
}

extension String {
    func replacingOccurrences(_ target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
