import NIOCore
import S3Wire
import Testing

@Suite("POST forms: multipart/form-data read as a stream")
struct MultipartFormReaderTests {
    static func form(_ parts: [(String, String)], file: String = "file body", filename: String = "a.txt") -> [UInt8] {
        var text = ""
        for (name, value) in parts { text += "--XyZ\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n" }
        text += "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(filename)\"\r\nContent-Type: text/plain\r\n\r\n"
        text += file + "\r\n--XyZ\r\nContent-Disposition: form-data; name=\"late\"\r\n\r\nignored\r\n--XyZ--\r\n"
        return Array(text.utf8)
    }

    /// Feeds `bytes` in chunks of `chunk` bytes and collects what the reader reports.
    static func read(_ bytes: [UInt8], chunk: Int, limits: MultipartFormReader.Limits = .init()) throws(S3Error)
        -> (fields: [String: String], filename: String?, file: [UInt8])
    {
        var reader = MultipartFormReader(boundary: "XyZ", limits: limits)
        var fields: [String: String] = [:]
        var filename: String?
        var file: [UInt8] = []
        var offset = 0
        while !reader.isFinished {
            if offset < bytes.count {
                reader.append(ByteBuffer(bytes: bytes[offset..<min(bytes.count, offset + chunk)]))
                offset += chunk
            } else {
                reader.endInput()
            }
            while let event = try reader.next() {
                switch event {
                case .field(let name, let value): fields[name] = value
                case .fileStart(let name, _): filename = name
                case .fileData(let data): file += Array(data.readableBytesView)
                case .fileEnd: break
                }
            }
        }
        return (fields, filename, file)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let file: String
        var testDescription: String { name }
    }

    static let bodies: [Case] = [
        Case(name: "an empty file", file: ""),
        Case(name: "a plain file", file: "hello, world"),
        Case(name: "a file holding a CRLF and dashes that are not the boundary", file: "a\r\n--XyQ\r\n--Xy\r\n-"),
        Case(name: "a file ending in a partial delimiter", file: "tail\r\n--Xy"),
    ]

    @Test(arguments: bodies, [1, 2, 7, 4096])
    func fileBytesSurviveAnyChunking(_ test: Case, chunk: Int) throws {
        let result = try Self.read(Self.form([("key", "k"), ("Content-Type", "text/csv")], file: test.file), chunk: chunk)
        #expect(result.fields == ["key": "k", "Content-Type": "text/csv"])
        #expect(result.filename == "a.txt")
        #expect(result.file == Array(test.file.utf8))
    }

    struct Failure: CustomTestStringConvertible, Sendable {
        let name: String
        let body: [UInt8]
        let code: S3ErrorCode
        var testDescription: String { name }
    }

    static let failures: [Failure] = [
        Failure(name: "no file before the closing delimiter",
                body: Array("--XyZ\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\r\n--XyZ--\r\n".utf8),
                code: .incorrectNumberOfFilesInPostRequest),
        Failure(name: "a body cut off inside the file", body: Array(form([("key", "k")]).prefix(120)), code: .malformedPOSTRequest),
        Failure(name: "a part without Content-Disposition",
                body: Array("--XyZ\r\nContent-Type: text/plain\r\n\r\nk\r\n--XyZ--\r\n".utf8), code: .malformedPOSTRequest),
        Failure(name: "fields over the limit", body: form([("key", String(repeating: "k", count: 300))]),
                code: .maxPostPreDataLengthExceededError),
        Failure(name: "no boundary at all", body: Array(String(repeating: "x", count: 600).utf8), code: .malformedPOSTRequest),
    ]

    @Test(arguments: failures)
    func malformedForms(_ test: Failure) {
        #expect(throws: S3Error.self) { try Self.read(test.body, chunk: 16, limits: .init(fieldBytes: 200, partHeaderBytes: 256)) }
        do {
            _ = try Self.read(test.body, chunk: 16, limits: .init(fieldBytes: 200, partHeaderBytes: 256))
        } catch {
            #expect(error.code == test.code)
        }
    }

    @Test("the boundary comes from the Content-Type, quoted or not")
    func boundaries() {
        #expect(MultipartFormReader.boundary(contentType: "multipart/form-data; boundary=abc") == "abc")
        #expect(MultipartFormReader.boundary(contentType: "Multipart/Form-Data; charset=utf-8; boundary=\"a b\"") == "a b")
        #expect(MultipartFormReader.boundary(contentType: "application/x-www-form-urlencoded") == nil)
        #expect(MultipartFormReader.boundary(contentType: "multipart/form-data") == nil)
    }

    @Test("a quoted filename may hold ; and an escaped quote")
    func dispositionFilename() throws {
        let result = try Self.read(Self.form([("key", "${filename}")], filename: "a;b \\\"c\\\".txt"), chunk: 5)
        #expect(result.filename == "a;b \"c\".txt")
    }
}
