import Foundation
import HTTPTypes
import NIOCore
import S3Auth
import S3Wire

/// The parsers that read what a client sends, each as a libFuzzer target: any input must end in a value or a
/// thrown S3 error, never a crash, a hang or unbounded memory.
public enum FuzzTarget: String, CaseIterable, Sendable {
    case xmlReader = "xml-reader"
    case xmlDocuments = "xml-documents"
    case authHeaders = "auth-headers"
    case authQuery = "auth-query"
    case awsChunked = "aws-chunked"
    case percentDecoding = "percent-decoding"
    case requestTarget = "request-target"
    case policyDocuments = "policy-documents"
    case postForms = "post-forms"
    case jsonReader = "json-reader"
    case queryForms = "query-forms"
    case numericHeaders = "numeric-headers"

    public func run(_ data: [UInt8]) {
        switch self {
        case .xmlReader: Self.xmlReader(data)
        case .xmlDocuments: Self.xmlDocuments(data)
        case .authHeaders: Self.authHeaders(data)
        case .authQuery: Self.authQuery(data)
        case .awsChunked: Self.awsChunked(data)
        case .percentDecoding: Self.percentDecoding(data)
        case .requestTarget: Self.requestTarget(data)
        case .policyDocuments: Self.policyDocuments(data)
        case .postForms: Self.postForms(data)
        case .jsonReader: Self.jsonReader(data)
        case .queryForms: Self.queryForms(data)
        case .numericHeaders: Self.numericHeaders(data)
        }
    }

    /// POST Object forms, in chunks of a size the first byte picks (so that boundaries fall across chunks), with
    /// the boundary "b"; and the same bytes as a POST policy document.
    static func postForms(_ data: [UInt8]) {
        guard let first = data.first else { return }
        let chunkSize = Int(first % 32) + 1
        var reader = MultipartFormReader(boundary: "b", limits: .init(fieldBytes: 512, partHeaderBytes: 256))
        var offset = 1
        reading: while true {
            if offset < data.count {
                let end = min(data.count, offset + chunkSize)
                reader.append(ByteBuffer(bytes: data[offset..<end]))
                offset = end
            } else {
                reader.endInput()
            }
            do {
                while try reader.next() != nil {}
            } catch {
                break reading
            }
            if reader.isFinished { break }
        }
        _ = try? PostPolicy.parse(base64: Data(data).base64EncodedString())
    }

    /// Bucket and identity policies (JSON), and the questions the authorizer asks of them.
    static func policyDocuments(_ data: [UInt8]) {
        for kind in [PolicyDocument.Kind.resource, .identity] {
            guard let policy = try? PolicyDocument.parse(data, kind: kind) else { continue }
            _ = policy.isPublic
            _ = policy.invalidPrincipal
            _ = policy.invalidAddress
            _ = policy.resourceOutside(bucket: "bucket")
        }
        _ = PolicyDocument.compactSize(data)
    }

    static func xmlReader(_ data: [UInt8]) {
        _ = try? XMLReader.parse(data, limits: .lifecycle)
    }

    /// The first byte picks the document; the rest is the document.
    static func xmlDocuments(_ data: [UInt8]) {
        guard let selector = data.first else { return }
        let document = Array(data.dropFirst())
        switch selector % 9 {
        case 0: _ = try? LifecycleXML.parse(document)
        case 1: _ = try? ObjectLockXML.parseConfiguration(document)
        case 2: _ = try? ObjectLockXML.parseRetention(document, now: Date(timeIntervalSince1970: 1_700_000_000))
        case 3: _ = try? ObjectLockXML.parseLegalHold(document)
        case 4: _ = try? TagSet.parse(document: document, limit: TagSet.maxBucketTags)
        case 5: _ = try? CompleteMultipartUploadXML.parse(document)
        case 7: _ = try? AccessControlXML.parse(document)
        case 8: _ = try? CORSXML.parse(document)
        default: _ = try? DeleteObjectsXML.parse(document)
        }
    }

    static let authenticator = RequestAuthenticator(
        region: "us-east-1", credentials: StaticCredentials(accessKey: "AKIDEXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"))
    static let now = Date(timeIntervalSince1970: 1_440_938_160)  // 20150830T123600Z, the date of AWS's examples

    /// Header lines (`name: value`, one per line): Authorization (SigV4 or SigV2), x-amz-date, x-amz-content-sha256...
    static func authHeaders(_ data: [UInt8]) {
        let text = String(decoding: data, as: UTF8.self)
        var headers: [(name: String, value: String)] = [("host", "examplebucket.s3.amazonaws.com")]
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        let parts = HTTPRequestParts(method: "PUT", rawPath: "/test%24file.text", rawQuery: "", headers: headers, sigV2ResourcePath: nil)
        _ = try? authenticator.authenticate(parts, now: now)
    }

    /// A raw query string: presigned SigV4 (X-Amz-*) or SigV2 (AWSAccessKeyId, Signature, Expires).
    static func authQuery(_ data: [UInt8]) {
        let parts = HTTPRequestParts(
            method: "GET", rawPath: "/test.txt", rawQuery: String(decoding: data, as: UTF8.self),
            headers: [("host", "examplebucket.s3.amazonaws.com")], sigV2ResourcePath: nil)
        _ = try? authenticator.authenticate(parts, now: now)
    }

    /// The first byte picks the framing (unsigned with a trailer, or signed) and how the body is cut into
    /// reads; the rest is the body.
    static func awsChunked(_ data: [UInt8]) {
        guard let selector = data.first else { return }
        let body = data.dropFirst()
        let signing = selector & 1 == 0 ? nil : ChunkSigningContext(
            signingKey: Array(repeating: 7, count: 32), amzDate: "20130524T000000Z",
            scope: "20130524/us-east-1/s3/aws4_request", seedSignature: String(repeating: "a", count: 64))
        var decoder = AWSChunkedDecoder(config: AWSChunkedConfig(
            signing: signing, trailerNames: selector & 2 == 0 ? [] : ["x-amz-checksum-crc32"],
            signedTrailer: signing != nil && selector & 2 != 0, decodedContentLength: nil))
        // Reads of 1 to 4,033 bytes: every framing element gets cut across reads somewhere.
        let cut = Int(selector >> 2) * 64 + 1
        var index = body.startIndex
        do {
            while index < body.endIndex {
                let end = body.index(index, offsetBy: cut, limitedBy: body.endIndex) ?? body.endIndex
                var buffer = ByteBuffer()
                buffer.writeBytes(body[index..<end])
                _ = try decoder.decode(buffer)
                index = end
            }
            _ = try decoder.finish()
        } catch {}
    }

    static func percentDecoding(_ data: [UInt8]) {
        let text = String(decoding: data, as: UTF8.self)
        _ = Percent.decode(text, plusIsSpace: true)
        _ = Percent.decode(text, plusIsSpace: false)
        _ = try? QueryParameters(rawQuery: text)
    }

    /// `METHOD path?query` with an optional `\nHost` line: the request-target and endpoint parsers.
    static func requestTarget(_ data: [UInt8]) {
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
        let requestLine = lines.first.map(String.init) ?? ""
        let host = lines.count > 1 ? String(lines[1]) : "127.0.0.1:9000"
        let (methodText, pathAndQuery) = requestLine.firstIndex(of: " ").map {
            (String(requestLine[..<$0]), String(requestLine[requestLine.index(after: $0)...]))
        } ?? ("GET", requestLine)
        let (rawPath, rawQuery) = pathAndQuery.firstIndex(of: "?").map {
            (String(pathAndQuery[..<$0]), String(pathAndQuery[pathAndQuery.index(after: $0)...]))
        } ?? (pathAndQuery, "")
        guard let target = try? RequestTarget(rawPath: rawPath, host: host, domain: "example.test"),
              let query = try? QueryParameters(rawQuery: rawQuery),
              let method = HTTPRequest.Method(methodText)
        else { return }
        var headers = HTTPFields()
        headers[.contentLength] = "0"
        _ = try? S3Endpoint.parse(method: method, target: target, query: query, headers: headers)
    }
}
