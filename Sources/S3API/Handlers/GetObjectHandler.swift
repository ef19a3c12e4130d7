import Digest
import Foundation
import HTTPTypes
import HummingbirdCore
import NIOCore
import ObjectStore
import S3Wire

/// GetObject and HeadObject.
extension S3Handlers {
    /// Bytes read from disk per response write: large enough for GB/s, small enough to bound memory.
    static let readChunkSize = 1 << 20
    /// Bodies up to this size are read whole before the response starts (the blob store reads such blobs whole).
    static let inMemoryBodyLimit: Int64 = 64 * 1024

    func getObject(_ bucket: String, _ key: String, _ context: RequestContext, isHead: Bool) async throws -> S3Response {
        // HEAD is answered from the index alone (clients such as rclone and s3cmd send many); a GET opens the
        // blob with its record, so the bytes sent are the record's even if a writer replaces it meanwhile.
        let version = try Self.requestedVersion(context)
        try Self.refuseEncryptionHeadersOnRead(context)
        let lookup: @Sendable () async throws -> ObjectRecord? = { [storage] in
            if let version { return try await storage.index.objectVersion(bucket: bucket, key: key, versionID: version) }
            return try await storage.index.object(bucket: bucket, key: key)
        }
        let found: ObjectRecord
        let reader: ObjectReader?
        do {
            if isHead {
                guard let record = try await lookup() else { throw StoreError.noSuchKey }
                (found, reader) = (record, nil)
            } else {
                (found, reader) = try await storage.open(lookup)
            }
        } catch StoreError.noSuchKey {
            // Whether a key exists is for those who may list the bucket: anyone else is told AccessDenied.
            try await context.require(IAMAction("s3:ListBucket", resource: "arn:aws:s3:::\(bucket)", bucket: bucket, prefixKey: key))
            var error = try await missingObjectError(bucket, key, version: version)
            // A HEAD that finds nothing says whether a delete marker is why, `false` included, as AWS does.
            if isHead, error.code == .noSuchKey, !error.headers.contains(where: { $0.0 == "x-amz-delete-marker" }) {
                error.headers.append(("x-amz-delete-marker", "false"))
            }
            throw error
        }
        let record = found
        if record.isDeleteMarker {
            await reader?.close()
            throw Self.deleteMarkerError(record, named: true, key: key)
        }
        do {
            let unsealer = try await readingUnsealer(for: record, context)
            if try Preconditions(context).evaluate(etag: record.etag, lastModified: record.lastModified) == .notModified {
                await reader?.close()
                var headers = HTTPFields()
                headers[.eTag] = "\"\(record.etag)\""
                headers[.lastModified] = HTTPDate.rfc1123(record.lastModified)
                return S3Response(status: .notModified, headers: headers)
            }
            var headers = Self.objectHeaders(record, context: context)
            Self.addEncryptionHeaders(record.metadata.encryption, to: &headers)
            if version == nil { try await addExpirationHeader(for: record, to: &headers) }
            var status = HTTPResponse.Status.ok
            var bytes = 0..<record.size
            var checksum: StoredChecksum? = nil
            if let partNumber = try Self.requestedPart(context) {
                let part = try Self.partRange(record, number: partNumber)
                bytes = part.range
                checksum = part.checksum
                if !record.parts.isEmpty { headers[.amzMPPartsCount] = String(record.parts.count) }
                if record.size > 0 {
                    status = .partialContent
                    headers[.contentRange] = "bytes \(bytes.lowerBound)-\(bytes.upperBound - 1)/\(record.size)"
                }
            } else if let range = try ByteRange.parse(context.header("Range"), size: record.size) {
                status = .partialContent
                bytes = range
                headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(record.size)"
            } else {
                checksum = record.checksum
            }
            if context.header("x-amz-checksum-mode")?.uppercased() == "ENABLED" {
                Self.addChecksumHeader(checksum, to: &headers)
            }
            headers[.contentLength] = String(bytes.count)
            guard let reader, !bytes.isEmpty else {
                await reader?.close()
                return S3Response(status: status, headers: headers)
            }
            let span = bytes
            if span.count <= Self.inMemoryBodyLimit {
                // A small body is read before the status line: the response then leaves in one write, and a
                // failed read is still an error document rather than a truncated body.
                let contents: ByteBuffer
                do { contents = try await reader.readWhole(range: span, unsealer: unsealer) } catch {
                    await reader.close()
                    throw error
                }
                await reader.close()
                return S3Response(status: status, headers: headers, body: ResponseBody(byteBuffer: contents))
            }
            let body = ResponseBody(contentLength: Int(span.count)) { writer in
                do {
                    // On plain HTTP the kernel sends the file (sendfile): no copy through memory, no read on the pool.
                    let files = (writer as? any FileSendingBodyWriter).flatMap { $0.sendsFiles ? $0 : nil }
                    try await reader.read(
                        range: span, chunkSize: Self.readChunkSize, unsealer: unsealer, sendFile: files?.sendFile
                    ) {
                        try await writer.write($0)
                    }
                } catch let error as StoreError {
                    // The status line is out: all that is left is to cut the body short, which the client
                    // detects by its Content-Length, and to say why.
                    logger.error("reading the object failed mid-response; the response was cut short", metadata: [
                        "request-id": "\(context.requestID)", "error": "\(error)"])
                    await reader.close()
                    throw error
                } catch {
                    await reader.close()
                    throw error
                }
                await reader.close()
                try await writer.finish(nil)
            }
            return S3Response(status: status, headers: headers, body: body)
        } catch {
            await reader?.close()
            throw error
        }
    }

    /// The current object, or the named version (delete markers included): NoSuchKey or NoSuchVersion if none.
    func requireVersion(_ bucket: String, _ key: String, version: String?) async throws -> ObjectRecord {
        let found = if let version {
            try await storage.index.objectVersion(bucket: bucket, key: key, versionID: version)
        } else {
            try await storage.index.object(bucket: bucket, key: key)
        }
        guard let found else { throw try await missingObjectError(bucket, key, version: version) }
        return found
    }

    /// NoSuchKey, with the delete-marker headers if the key's latest version is a marker, or NoSuchVersion.
    func missingObjectError(_ bucket: String, _ key: String, version: String?) async throws -> S3Error {
        if let version {
            return S3Error(.noSuchVersion, details: [("Key", key), ("VersionId", version)])
        }
        if let latest = try await storage.index.latestVersion(bucket: bucket, key: key), latest.isDeleteMarker {
            return Self.deleteMarkerError(latest, named: false, key: key)
        }
        return S3Error.noSuchKey(key)
    }

    /// `?partNumber=N`, which may not be combined with a Range.
    static func requestedPart(_ context: RequestContext) throws(S3Error) -> Int? {
        guard let text = context.query["partNumber"] else { return nil }
        let number = try partNumber(text)
        if context.header("Range") != nil {
            throw S3Error(.invalidRequest, "Cannot specify both Range header and partNumber query parameter")
        }
        return number
    }

    /// The bytes of the `number`th part (counting from 1) of a completed multipart object, and its checksum.
    /// An object stored whole is its own part 1.
    static func partRange(_ record: ObjectRecord, number: Int) throws(S3Error) -> (range: Range<Int64>, checksum: StoredChecksum?) {
        if record.parts.isEmpty {
            guard number == 1 else { throw S3Error(.invalidPartNumber, details: [("PartNumberRequested", String(number)), ("ActualPartCount", "1")]) }
            return (0..<record.size, record.checksum)
        }
        guard number <= record.parts.count else {
            throw S3Error(.invalidPartNumber, details: [("PartNumberRequested", String(number)), ("ActualPartCount", String(record.parts.count))])
        }
        let offset = record.parts[..<(number - 1)].reduce(Int64(0)) { $0 + $1.size }
        let part = record.parts[number - 1]
        // A COMPOSITE object's part has its own checksum. A FULL_OBJECT checksum covers the whole object, so a part
        // of one has none, unless it is the only part and so the whole object.
        var checksum: StoredChecksum? = nil
        if let whole = record.checksum {
            if whole.type == MultipartChecksumMode.composite, let value = part.checksum {
                checksum = StoredChecksum(algorithm: whole.algorithm, value: value, type: whole.type)
            } else if whole.type == MultipartChecksumMode.fullObject, record.parts.count == 1 {
                checksum = whole
            }
        }
        return (offset..<(offset + part.size), checksum)
    }

    /// The stored headers of an object, with `response-*` query overrides applied.
    static func objectHeaders(_ record: ObjectRecord, context: RequestContext) -> HTTPFields {
        var headers = HTTPFields()
        let m = record.metadata
        headers[.eTag] = "\"\(record.etag)\""
        headers[.lastModified] = HTTPDate.rfc1123(record.lastModified)
        headers[.acceptRanges] = "bytes"
        if let version = record.versionID { headers[.amzVersionID] = version } else if context.query["versionId"] != nil {
            headers[.amzVersionID] = VersionID.null
        }
        headers[.contentType] = context.query["response-content-type"] ?? m.contentType ?? "binary/octet-stream"
        let optional: [(HTTPField.Name, String?, String)] = [
            (.contentEncoding, m.contentEncoding, "response-content-encoding"),
            (.contentDisposition, m.contentDisposition, "response-content-disposition"),
            (.contentLanguage, m.contentLanguage, "response-content-language"),
            (.cacheControl, m.cacheControl, "response-cache-control"),
            (.expires, m.expires, "response-expires"),
        ]
        for (name, stored, override) in optional {
            if let value = context.query[override] ?? stored { headers[name] = value }
        }
        for (name, value) in m.userMetadata.sorted(by: { $0.key < $1.key }) {
            if let field = HTTPField.Name("x-amz-meta-" + name) { headers[field] = MetadataHeaderEncoding.headerValue(value) }
        }
        if let tags = m.tags, !tags.isEmpty { headers[.amzTaggingCount] = String(tags.count) }
        if let location = m.websiteRedirectLocation { headers[.amzWebsiteRedirectLocation] = location }
        ObjectLockXML.addHeaders(for: m, to: &headers)
        // AWS names the storage class only when it is not STANDARD.
        if let storageClass = m.storageClass, storageClass != "STANDARD" {
            headers[.amzStorageClass] = storageClass
        }
        return headers
    }
}

extension Preconditions {
    init(_ context: RequestContext) {
        // An unparseable date is ignored, as HTTP says.
        self.init(
            ifMatch: context.nonEmptyHeader("If-Match"),
            ifNoneMatch: context.nonEmptyHeader("If-None-Match"),
            ifModifiedSince: context.nonEmptyHeader("If-Modified-Since").flatMap(HTTPDate.parse),
            ifUnmodifiedSince: context.nonEmptyHeader("If-Unmodified-Since").flatMap(HTTPDate.parse))
    }
}
