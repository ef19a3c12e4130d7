import HTTPTypes
import HummingbirdCore
import NIOCore
import S3Wire

/// A response a handler builds: status, headers and a body that may stream.
public struct S3Response: Sendable {
    public var status: HTTPResponse.Status
    public var headers: HTTPFields
    public var body: ResponseBody
    /// The operation answered (`GetObject`), for metrics and the access log; nil until the server knows it.
    var operation: String?
    /// For the access log: who asked (access key id), about what, and the S3 error code of a failure.
    var principal: String?
    var bucket: String?
    var key: String?
    var errorCode: String?

    public init(status: HTTPResponse.Status = .ok, headers: HTTPFields = [:], body: ResponseBody = ResponseBody()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A 200 (or other status) carrying an XML document.
    public static func xml(_ writer: XMLWriter, status: HTTPResponse.Status = .ok) -> S3Response {
        var buffer = ByteBufferAllocator().buffer(capacity: writer.text.utf8.count)
        buffer.writeString(writer.text)
        var headers = HTTPFields()
        headers[.contentType] = "application/xml"
        headers[.contentLength] = String(buffer.readableBytes)
        return S3Response(status: status, headers: headers, body: ResponseBody(byteBuffer: buffer))
    }

    /// A 200 carrying bytes built in memory (small documents that are not XML).
    public static func bytes(_ bytes: [UInt8], headers: HTTPFields) -> S3Response {
        var headers = headers
        headers[.contentLength] = String(bytes.count)
        return S3Response(headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// A response with no body. `Content-Length: 0` keeps keep-alive clients from waiting for one.
    public static func empty(_ status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> S3Response {
        var headers = headers
        if headers[.contentLength] == nil { headers[.contentLength] = "0" }
        return S3Response(status: status, headers: headers)
    }
}

extension HTTPField.Name {
    static let amzRequestID = HTTPField.Name("x-amz-request-id")!
    static let amzID2 = HTTPField.Name("x-amz-id-2")!
    static let amzStorageClass = HTTPField.Name("x-amz-storage-class")!
    static let amzBucketRegion = HTTPField.Name("x-amz-bucket-region")!
    static let amzChecksumType = HTTPField.Name("x-amz-checksum-type")!
    static let amzMPPartsCount = HTTPField.Name("x-amz-mp-parts-count")!
    static let expires = HTTPField.Name("Expires")!
}
