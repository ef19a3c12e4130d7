import Digest
import Foundation
import HTTPTypes
import ObjectStore
import S3Wire

/// CopyObject and UploadPartCopy. Neither moves bytes through HTTP or writes them again: the copy shares the
/// source's blobs (a part copied from a range shares that range), and the index counts the references.
extension S3Handlers {
    /// `x-amz-copy-source`: `[/]bucket/key[?versionId=id]`, with the key URL-encoded.
    struct CopySource: Equatable {
        var bucket: String
        var key: String
        /// The version the copy names, if any.
        var versionID: String?

        init(header: String) throws(S3Error) {
            var text = Substring(header)
            var named: String?
            if let mark = text.firstIndex(of: "?") {
                let query = text[text.index(after: mark)...]
                text = text[..<mark]
                for item in query.split(separator: "&") where item.hasPrefix("versionId=") {
                    named = Percent.decode(item.dropFirst("versionId=".count), plusIsSpace: false)
                }
            }
            if text.hasPrefix("/") { text = text.dropFirst() }
            guard let decoded = Percent.decode(text, plusIsSpace: false), let slash = decoded.firstIndex(of: "/") else {
                throw Self.malformed
            }
            bucket = String(decoded[..<slash])
            key = String(decoded[decoded.index(after: slash)...])
            guard !bucket.isEmpty, !key.isEmpty else { throw Self.malformed }
            if let named, named.isEmpty {
                throw S3Error(.invalidArgument, "Invalid version id specified",
                              details: [("ArgumentName", "x-amz-copy-source"), ("ArgumentValue", header)])
            }
            versionID = named
        }

        /// Reading the source is its own permission: GetObject (GetObjectVersion when a version is named).
        var readAction: IAMAction {
            IAMAction(
                versionID == nil ? "s3:GetObject" : "s3:GetObjectVersion", resource: "arn:aws:s3:::\(bucket)/\(key)",
                bucket: bucket, key: key, versionID: versionID)
        }

        static let malformed = S3Error(
            .invalidArgument, "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
            details: [("ArgumentName", "x-amz-copy-source")])
    }

    func copyObject(_ bucket: String, _ key: String, _ context: RequestContext) async throws -> S3Response {
        try Self.validateKey(key)
        let source = try CopySource(header: context.header("x-amz-copy-source") ?? "")
        try await context.require(source.readAction)
        let replaceMetadata = try Self.directive(context, "x-amz-metadata-directive")
        let replaceTags = try Self.directive(context, "x-amz-tagging-directive")
        let condition = try Self.writeCondition(from: context)
        let requestedChecksum = try context.nonEmptyHeader("x-amz-checksum-algorithm").map { name throws(S3Error) -> ChecksumAlgorithm in
            guard let algorithm = ChecksumAlgorithm(rawValue: name.uppercased()) else {
                throw S3Error(.invalidRequest, "Value for x-amz-checksum-algorithm header is invalid.")
            }
            return algorithm
        }
        let newMetadata = try Self.objectMetadata(from: context)
        // A copy never takes the source's ACL: it gets the request's, as a new object does.
        let newACL = try await newObjectACL(bucket, context)
        let lock = try ObjectLockXML.request(from: context.headers, now: Date())
        let bucketLock = try await requireBucket(bucket).objectLock
        try lock.validate(for: bucketLock)

        for attempt in 1...5 {
            let original = try await copySourceRecord(source, context)
            var metadata = replaceMetadata ? newMetadata : original.metadata
            // The destination's storage class is the request's, STANDARD unless named, whatever the directive.
            metadata.storageClass = newMetadata.storageClass
            metadata.tags = replaceTags ? newMetadata.tags : original.metadata.tags
            metadata.acl = newACL
            let changesChecksum = requestedChecksum.map { $0.rawValue != original.checksum?.algorithm } ?? false
            // Copying an older version onto its own key is how a version is restored: allowed.
            if source.bucket == bucket, source.key == key, source.versionID == nil, !replaceMetadata, !changesChecksum,
               (metadata.storageClass ?? "STANDARD") == (original.metadata.storageClass ?? "STANDARD") {
                throw S3Error(.invalidRequest, "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
            }
            var checksum = original.checksum
            if let requestedChecksum, changesChecksum {
                let digests: (md5: [UInt8], checksum: [UInt8])
                do {
                    digests = try await digestObject(source, record: original, range: 0..<original.size, checksum: requestedChecksum)
                } catch StoreError.sourceChanged where attempt < 5 {
                    continue
                }
                checksum = StoredChecksum(algorithm: requestedChecksum.rawValue, value: digests.checksum.base64String, type: MultipartChecksumMode.fullObject)
            }
            let created = Date()
            lock.apply(to: &metadata, bucket: bucketLock, created: created)
            let record = ObjectRecord(
                bucket: bucket, key: key, size: original.size, etag: original.etag, lastModified: created,
                metadata: metadata, checksum: checksum, segments: original.segments, parts: original.parts)
            let change: IndexChange
            do {
                change = try await storage.putObject(
                    record, condition: condition,
                    source: SharedSource(bucket: source.bucket, key: source.key, versionID: source.versionID, segments: original.segments))
            } catch StoreError.sourceChanged where attempt < 5 {
                continue
            } catch StoreError.preconditionFailed {
                throw try await conditionFailure(condition, bucket: bucket, key: key)
            }
            var xml = XMLWriter()
            xml.element("CopyObjectResult", namespace: XMLWriter.s3Namespace) { x in
                x.element("ETag", "\"\(record.etag)\"")
                x.element("LastModified", HTTPDate.iso8601(record.lastModified))
                Self.writeChecksumElements(record.checksum, into: &x)
            }
            var response = S3Response.xml(xml)
            Self.addVersionHeader(change.stored, to: &response.headers)
            if let version = source.versionID { response.headers[.amzCopySourceVersionID] = version }
            return response
        }
        throw S3Error(.internalError)
    }

    func uploadPartCopy(_ bucket: String, _ key: String, uploadID: String, _ context: RequestContext) async throws -> S3Response {
        let number = try Self.partNumber(context.query["partNumber"])
        let source = try CopySource(header: context.header("x-amz-copy-source") ?? "")
        try await context.require(source.readAction)
        guard let upload = try await storage.index.upload(bucket: bucket, key: key, uploadID: uploadID) else {
            _ = try await requireBucket(bucket)
            throw S3Error(.noSuchUpload, details: [("UploadId", uploadID)])
        }
        let mode = MultipartChecksumMode(upload)
        for attempt in 1...5 {
            let original = try await copySourceRecord(source, context)
            let range = try Self.copySourceRange(context.nonEmptyHeader("x-amz-copy-source-range"), size: original.size)
            if range.count > Self.maxPartSize {
                throw S3Error(.invalidRequest, "The specified copy source is larger than the maximum allowable size for a copy source: \(Self.maxPartSize)")
            }
            let digests: (md5: [UInt8], checksum: [UInt8])
            if range == 0..<original.size, original.parts.isEmpty, original.checksum?.algorithm == mode.algorithm.rawValue,
               let md5 = decodeHex(original.etag), let checksum = original.checksum.flatMap({ decodeBase64($0.value) }) {
                // A whole object stored in one piece already carries both digests of exactly these bytes.
                digests = (md5, checksum)
            } else {
                do {
                    digests = try await digestObject(source, record: original, range: range, checksum: mode.algorithm)
                } catch StoreError.sourceChanged where attempt < 5 {
                    continue
                }
            }
            let part = UploadedPart(
                number: number, size: Int64(range.count), etag: digests.md5.hexString, lastModified: Date(),
                checksum: StoredChecksum(algorithm: mode.algorithm.rawValue, value: digests.checksum.base64String),
                segments: original.segments.slice(range))
            do {
                try await storage.putPart(
                    part, bucket: bucket, key: key, uploadID: uploadID,
                    source: SharedSource(bucket: source.bucket, key: source.key, versionID: source.versionID, segments: part.segments))
            } catch StoreError.sourceChanged where attempt < 5 {
                continue
            } catch StoreError.noSuchUpload {
                throw S3Error(.noSuchUpload, details: [("UploadId", uploadID)])
            }
            var xml = XMLWriter()
            xml.element("CopyPartResult", namespace: XMLWriter.s3Namespace) { x in
                x.element("ETag", "\"\(part.etag)\"")
                x.element("LastModified", HTTPDate.iso8601(part.lastModified))
                if mode.requested { Self.writeChecksumElements(part.checksum, into: &x, withType: false) }
            }
            return .xml(xml)
        }
        throw S3Error(.internalError)
    }

    /// The source object, if it exists and the `x-amz-copy-source-if-*` conditions hold (412 otherwise).
    private func copySourceRecord(_ source: CopySource, _ context: RequestContext) async throws -> ObjectRecord {
        let found: ObjectRecord?
        do {
            if let version = source.versionID {
                found = try await storage.index.objectVersion(bucket: source.bucket, key: source.key, versionID: version)
                if found == nil { throw S3Error(.noSuchVersion, details: [("Key", source.key), ("VersionId", version)]) }
            } else {
                found = try await storage.index.object(bucket: source.bucket, key: source.key)
            }
        } catch StoreError.noSuchBucket {
            throw S3Error.noSuchBucket(source.bucket)
        }
        guard let record = found else { throw S3Error.noSuchKey(source.key) }
        if record.isDeleteMarker {
            throw S3Error(.invalidRequest, "The source of a copy request may not specifically refer to a delete marker by version id.")
        }
        let conditions = Preconditions(
            ifMatch: context.nonEmptyHeader("x-amz-copy-source-if-match"),
            ifNoneMatch: context.nonEmptyHeader("x-amz-copy-source-if-none-match"),
            ifModifiedSince: context.nonEmptyHeader("x-amz-copy-source-if-modified-since").flatMap(HTTPDate.parse),
            ifUnmodifiedSince: context.nonEmptyHeader("x-amz-copy-source-if-unmodified-since").flatMap(HTTPDate.parse))
        // A copy has no 304: every failed condition is a 412.
        if try conditions.evaluate(etag: record.etag, lastModified: record.lastModified) == .notModified {
            throw S3Error(.preconditionFailed, details: [("Condition", "x-amz-copy-source-If-None-Match")])
        }
        return record
    }

    /// MD5 and a checksum of a range of an object, read from its blobs (never through HTTP). Throws
    /// ``StoreError/sourceChanged`` if the source is no longer `record`.
    private func digestObject(
        _ source: CopySource, record: ObjectRecord, range: Range<Int64>, checksum algorithm: ChecksumAlgorithm
    ) async throws -> (md5: [UInt8], checksum: [UInt8]) {
        let (opened, reader) = try await storage.open { [storage] in
            if let version = source.versionID {
                return try await storage.index.objectVersion(bucket: source.bucket, key: source.key, versionID: version)
            }
            return try await storage.index.object(bucket: source.bucket, key: source.key)
        }
        guard opened.segments == record.segments else {
            await reader.close()
            throw StoreError.sourceChanged
        }
        var md5 = MD5()
        var checksum = algorithm.makeDigest()
        do {
            try await reader.read(range: range, chunkSize: Self.readChunkSize) { buffer in
                buffer.withUnsafeReadableBytes { bytes in
                    md5.update(bytes)
                    checksum.update(bytes)
                }
            }
        } catch {
            await reader.close()
            throw error
        }
        await reader.close()
        return (md5.finalize(), checksum.finalize())
    }

    /// `x-amz-copy-source-range: bytes=first-last`, both inside the source; the whole source when absent.
    static func copySourceRange(_ header: String?, size: Int64) throws(S3Error) -> Range<Int64> {
        guard let header else { return 0..<size }
        let bounds = header.hasPrefix("bytes=") ? header.dropFirst("bytes=".count).split(separator: "-", omittingEmptySubsequences: false) : []
        guard bounds.count == 2, let first = Int64(bounds[0]), let last = Int64(bounds[1]), first >= 0, first <= last else {
            throw S3Error(.invalidArgument, "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
                          details: [("ArgumentName", "x-amz-copy-source-range"), ("ArgumentValue", header)])
        }
        guard last < size else {
            throw S3Error(.invalidRange, "Range specified is not valid for source object of size: \(size)",
                          details: [("RangeRequested", header), ("ActualObjectSize", String(size))])
        }
        return first..<(last + 1)
    }

    /// COPY (false) or REPLACE (true) from a `*-directive` header; COPY when absent.
    static func directive(_ context: RequestContext, _ name: String) throws(S3Error) -> Bool {
        switch context.nonEmptyHeader(name)?.uppercased() {
        case nil, "COPY"?: return false
        case "REPLACE"?: return true
        case let other?:
            throw S3Error(.invalidArgument, "Unknown \(name == "x-amz-metadata-directive" ? "metadata" : "tagging") directive.",
                          details: [("ArgumentName", name), ("ArgumentValue", other)])
        }
    }
}

extension HTTPField.Name {
    static let amzCopySourceVersionID = HTTPField.Name("x-amz-copy-source-version-id")!
}
