import Foundation
import HTTPTypes
import Testing

@testable import S3API
@testable import S3Wire

@Suite("x-amz-copy-source")
struct CopySourceHeaderTests {
    @Test(
        "splits bucket from key at the first slash, percent-decoding the key",
        arguments: [
            ("bucket/key", "key"),
            ("/bucket/key", "key"),
            ("/bucket/dir/sub/file.txt", "dir/sub/file.txt"),
            ("/bucket/a%2Bb", "a+b"),
            ("/bucket/a+b", "a+b"),
            ("/bucket/a%20b", "a b"),
            ("/bucket/%E6%97%A5%E6%9C%AC/%F0%9F%98%80.txt", "日本/😀.txt"),
            ("bucket/日本.txt", "日本.txt"),
            ("/bucket/what%3Fnot-a-query", "what?not-a-query"),
            ("/bucket/dir%2Fkey", "dir/key"),
            ("/bucket/key?versionId=null", "key"),
            ("/bucket/a%2Bb?versionId=null", "a+b"),
        ])
    func parses(_ header: String, _ key: String) throws {
        let source = try S3Handlers.CopySource(header: header)
        #expect(source.bucket == "bucket")
        #expect(source.key == key)
    }

    @Test("a named version is kept; an empty one is InvalidArgument")
    func otherVersions() throws {
        #expect(try S3Handlers.CopySource(header: "/bucket/key?versionId=3HL4kqtJlcpXroDTDmJ").versionID == "3HL4kqtJlcpXroDTDmJ")
        #expect(try S3Handlers.CopySource(header: "bucket/key").versionID == nil)
        #expect(s3ErrorCode { try S3Handlers.CopySource(header: "/bucket/key?versionId=") } == .invalidArgument)
    }

    @Test(
        "a header without both a bucket and a key is InvalidArgument",
        arguments: ["", "/", "bucket", "/bucket", "/bucket/", "//key", "/bucket?versionId=null", "/bucket/%zz", "/bucket/%FF"])
    func missingParts(_ header: String) {
        #expect(s3ErrorCode { try S3Handlers.CopySource(header: header) } == .invalidArgument)
    }
}

@Suite("x-amz-copy-source-range")
struct CopySourceRangeTests {
    @Test("absent means the whole source")
    func absent() throws {
        #expect(try S3Handlers.copySourceRange(nil, size: 10) == 0..<10)
        #expect(try S3Handlers.copySourceRange(nil, size: 0) == 0..<0)
    }

    @Test(
        "bytes=first-last is inclusive of both ends",
        arguments: [("bytes=0-4", 0..<5), ("bytes=5-9", 5..<10), ("bytes=3-3", 3..<4), ("bytes=0-9", 0..<10)] as [(String, Range<Int64>)])
    func valid(_ header: String, _ expected: Range<Int64>) throws {
        #expect(try S3Handlers.copySourceRange(header, size: 10) == expected)
    }

    @Test(
        "anything but bytes=first-last with first <= last is InvalidArgument",
        arguments: ["bytes=5-2", "bytes=-5", "bytes=5-", "0-4", "bytes=a-b", "bytes=0-1,2-3", "bytes=", "bytes=-1-2", "items=0-4"])
    func malformed(_ header: String) {
        #expect(s3ErrorCode { try S3Handlers.copySourceRange(header, size: 10) } == .invalidArgument)
    }

    @Test("a last byte at or beyond the source's size is InvalidRange", arguments: ["bytes=0-10", "bytes=10-10", "bytes=9-100"])
    func beyondSize(_ header: String) {
        #expect(s3ErrorCode { try S3Handlers.copySourceRange(header, size: 10) } == .invalidRange)
    }
}

@Suite("partNumber")
struct PartNumberTests {
    @Test("1 through 10000 are part numbers", arguments: [("1", 1), ("42", 42), ("10000", 10_000)])
    func valid(_ text: String, _ number: Int) throws {
        #expect(try S3Handlers.partNumber(text) == number)
    }

    @Test("anything else is InvalidArgument", arguments: [nil, "", "0", "10001", "-1", "abc", " 1", "1.5"] as [String?])
    func invalid(_ text: String?) {
        #expect(s3ErrorCode { try S3Handlers.partNumber(text) } == .invalidArgument)
    }
}

@Suite("Routing of multipart, copy, batch delete and attributes")
struct MultipartRoutingTests {
    static func parse(
        _ method: HTTPRequest.Method, _ path: String, _ query: String = "", copySource: String? = nil
    ) throws -> S3Endpoint {
        var headers = HTTPFields()
        if let copySource { headers[HTTPField.Name("x-amz-copy-source")!] = copySource }
        return try S3Endpoint.parse(
            method: method, target: RequestTarget(rawPath: path, host: nil, domain: nil),
            query: QueryParameters(rawQuery: query), headers: headers)
    }

    @Test("multipart upload operations")
    func multipart() throws {
        #expect(try Self.parse(.post, "/b/k", "uploads") == .createMultipartUpload(bucket: "b", key: "k"))
        #expect(try Self.parse(.post, "/b/k", "uploads=") == .createMultipartUpload(bucket: "b", key: "k"))
        #expect(try Self.parse(.put, "/b/k", "partNumber=1&uploadId=u1") == .uploadPart(bucket: "b", key: "k", uploadID: "u1"))
        #expect(try Self.parse(.put, "/b/k", "uploadId=u1&partNumber=1", copySource: "/src/obj")
            == .uploadPartCopy(bucket: "b", key: "k", uploadID: "u1"))
        #expect(try Self.parse(.post, "/b/k", "uploadId=u1") == .completeMultipartUpload(bucket: "b", key: "k", uploadID: "u1"))
        #expect(try Self.parse(.delete, "/b/k", "uploadId=u1") == .abortMultipartUpload(bucket: "b", key: "k", uploadID: "u1"))
        #expect(try Self.parse(.get, "/b/k", "uploadId=u1&max-parts=2") == .listParts(bucket: "b", key: "k", uploadID: "u1"))
        #expect(try Self.parse(.get, "/b", "uploads&prefix=a") == .listMultipartUploads(bucket: "b"))
    }

    @Test("a key with slashes keeps them in multipart routes")
    func nestedKey() throws {
        #expect(try Self.parse(.put, "/b/dir/sub/k", "partNumber=2&uploadId=u1") == .uploadPart(bucket: "b", key: "dir/sub/k", uploadID: "u1"))
    }

    @Test("HEAD of an upload ID is MethodNotAllowed")
    func headUpload() {
        #expect(s3ErrorCode { try Self.parse(.head, "/b/k", "uploadId=u1") } == .methodNotAllowed)
    }

    @Test("copy, batch delete and attributes")
    func others() throws {
        #expect(try Self.parse(.post, "/b", "delete") == .deleteObjects(bucket: "b"))
        #expect(try Self.parse(.put, "/b/k", copySource: "/src/obj") == .copyObject(bucket: "b", key: "k"))
        #expect(try Self.parse(.put, "/b/k") == .putObject(bucket: "b", key: "k"))
        #expect(try Self.parse(.get, "/b/k", "attributes") == .getObjectAttributes(bucket: "b", key: "k"))
        #expect(try Self.parse(.get, "/b/k", "partNumber=2") == .getObject(bucket: "b", key: "k"))
        #expect(try Self.parse(.head, "/b/k", "partNumber=2") == .headObject(bucket: "b", key: "k"))
    }

    @Test("object lock: the bucket configuration, and retention and legal hold with or without a version")
    func objectLock() throws {
        #expect(try Self.parse(.get, "/b", "object-lock") == .getObjectLockConfiguration(bucket: "b"))
        #expect(try Self.parse(.put, "/b", "object-lock") == .putObjectLockConfiguration(bucket: "b"))
        #expect(try Self.parse(.get, "/b/k", "retention&versionId=v") == .getObjectRetention(bucket: "b", key: "k"))
        #expect(try Self.parse(.put, "/b/k", "retention") == .putObjectRetention(bucket: "b", key: "k"))
        #expect(try Self.parse(.get, "/b/k", "legal-hold") == .getObjectLegalHold(bucket: "b", key: "k"))
        #expect(try Self.parse(.put, "/b/k", "versionId=v&legal-hold") == .putObjectLegalHold(bucket: "b", key: "k"))
    }

    @Test("only PutObject and UploadPart stream a request body")
    func streamsBody() throws {
        #expect(try Self.parse(.put, "/b/k", "partNumber=1&uploadId=u1").streamsRequestBody)
        #expect(try !Self.parse(.put, "/b/k", "partNumber=1&uploadId=u1", copySource: "/src/obj").streamsRequestBody)
        #expect(try !Self.parse(.put, "/b/k", copySource: "/src/obj").streamsRequestBody)
        #expect(try !Self.parse(.post, "/b/k", "uploadId=u1").streamsRequestBody)
    }

    @Test("the operations name their bucket and key")
    func bucketAndKey() throws {
        let endpoint = try Self.parse(.put, "/b/k", "partNumber=1&uploadId=u1", copySource: "/src/obj")
        #expect(endpoint.bucketAndKey.bucket == "b")
        #expect(endpoint.bucketAndKey.key == "k")
        #expect(try Self.parse(.post, "/b", "delete").bucketAndKey.key == nil)
    }
}
