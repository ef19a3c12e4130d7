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
        let info = try await requireBucket(bucket)
        let bucketLock = info.objectLock
        try lock.validate(for: bucketLock)
        // The copy is encrypted as its request (or the bucket's default) says, never as its source was.
        let encryptionRequest = try ServerSideEncryptionHeaders.parseWrite { context.nonEmptyHeader($0) }
        let sealing = try await writeSealing(encryptionRequest, bucket: info, context)

        for attempt in 1...5 {
            let original = try await copySourceRecord(source, context)
            let unsealer = try await readingUnsealer(for: original, context, prefix: ServerSideEncryptionHeaders.copySourceCustomerPrefix)
            let sharesBlobs = sealing.map { $0.canShare(blobsOf: original.metadata.encryption) } ?? (original.metadata.encryption == nil)
            var metadata = replaceMetadata ? newMetadata : original.metadata
            metadata.encryption = sealing?.encryption
            // The destination's storage class is the request's, STANDARD unless named, whatever the directive.
            metadata.storageClass = newMetadata.storageClass
            metadata.tags = replaceTags ? newMetadata.tags : original.metadata.tags
            metadata.acl = newACL
            let changesChecksum = requestedChecksum.map { $0.rawValue != original.checksum?.algorithm } ?? false
            // Copying an older version onto its own key is how a version is restored: allowed.
            if source.bucket == bucket, source.key == key, source.versionID == nil, !replaceMetadata, !changesChecksum,
               encryptionRequest == nil, (metadata.storageClass ?? "STANDARD") == (original.metadata.storageClass ?? "STANDARD") {
                throw S3Error(.invalidRequest, "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
            }
            var checksum = original.checksum
            var (etag, segments, parts) = (original.etag, original.segments, original.parts)
            if !sharesBlobs {
                // Another encryption: the bytes are read through the source's keys and sealed under the copy's.
                let algorithm = requestedChecksum ?? original.checksum.flatMap { ChecksumAlgorithm(rawValue: $0.algorithm) } ?? .crc64nvme
                let copied: CopiedBytes
                do {
                    copied = try await readSource(
                        source, record: original, range: 0..<original.size, checksum: algorithm, unsealer: unsealer,
                        rewrite: true, sealing: sealing)
                } catch StoreError.sourceChanged where attempt < 5 {
                    continue
                }
                checksum = StoredChecksum(algorithm: algorithm.rawValue, value: copied.checksum.base64String, type: MultipartChecksumMode.fullObject)
                etag = Self.etag(md5: copied.md5, sealing)
                segments = copied.blobID.map { [BlobSegment(blobID: $0, size: original.size)] } ?? []
                parts = []
            } else if let requestedChecksum, changesChecksum {
                let copied: CopiedBytes
                do {
                    copied = try await readSource(
                        source, record: original, range: 0..<original.size, checksum: requestedChecksum, unsealer: unsealer)
                } catch StoreError.sourceChanged where attempt < 5 {
                    continue
                }
                checksum = StoredChecksum(algorithm: requestedChecksum.rawValue, value: copied.checksum.base64String, type: MultipartChecksumMode.fullObject)
            }
            let created = Date()
            lock.apply(to: &metadata, bucket: bucketLock, created: created)
            let record = ObjectRecord(
                bucket: bucket, key: key, size: original.size, etag: etag, lastModified: created,
                metadata: metadata, checksum: checksum, segments: segments, parts: parts)
            let change: IndexChange
            do {
                let shared = sharesBlobs
                    ? SharedSource(bucket: source.bucket, key: source.key, versionID: source.versionID, segments: original.segments)
                    : nil
                change = try await ChangeOrigin.creating(.copy) {
                    try await storage.putObject(record, condition: condition, source: shared)
                }
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
            Self.addEncryptionHeaders(record.metadata.encryption, to: &response.headers)
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
        let sealing = try await partSealing(upload, context)
        for attempt in 1...5 {
            let original = try await copySourceRecord(source, context)
            let range = try Self.copySourceRange(context.nonEmptyHeader("x-amz-copy-source-range"), size: original.size)
            if range.count > Self.maxPartSize {
                throw S3Error(.invalidRequest, "The specified copy source is larger than the maximum allowable size for a copy source: \(Self.maxPartSize)")
            }
            let unsealer = try await readingUnsealer(for: original, context, prefix: ServerSideEncryptionHeaders.copySourceCustomerPrefix)
            let sharesBlobs = sealing.map { $0.canShare(blobsOf: original.metadata.encryption) } ?? (original.metadata.encryption == nil)
            let etagIsMD5 = original.metadata.encryption.map { $0.mode == .s3 } ?? true
            let digests: (md5: [UInt8], checksum: [UInt8])
            var segments = original.segments.slice(range)
            if sharesBlobs, etagIsMD5, range == 0..<original.size, original.parts.isEmpty,
               original.checksum?.algorithm == mode.algorithm.rawValue,
               let md5 = decodeHex(original.etag), let checksum = original.checksum.flatMap({ decodeBase64($0.value) }) {
                // A whole object stored in one piece already carries both digests of exactly these bytes.
                digests = (md5, checksum)
            } else {
                do {
                    let copied = try await readSource(
                        source, record: original, range: range, checksum: mode.algorithm, unsealer: unsealer,
                        rewrite: !sharesBlobs, sealing: sealing)
                    digests = (copied.md5, copied.checksum)
                    if let blobID = copied.blobID { segments = [BlobSegment(blobID: blobID, size: Int64(range.count))] }
                } catch StoreError.sourceChanged where attempt < 5 {
                    continue
                }
            }
            let part = UploadedPart(
                number: number, size: Int64(range.count), etag: Self.etag(md5: digests.md5, sealing), lastModified: Date(),
                checksum: StoredChecksum(algorithm: mode.algorithm.rawValue, value: digests.checksum.base64String),
                segments: segments)
            do {
                try await storage.putPart(
                    part, bucket: bucket, key: key, uploadID: uploadID,
                    source: sharesBlobs
                        ? SharedSource(bucket: source.bucket, key: source.key, versionID: source.versionID, segments: part.segments)
                        : nil)
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
            var response = S3Response.xml(xml)
            Self.addEncryptionHeaders(upload.metadata.encryption, to: &response.headers)
            return response
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

    /// What a copy read from its source: the digests of the range, and the new blob it was written to if any.
    struct CopiedBytes {
        var md5: [UInt8]
        var checksum: [UInt8]
        var blobID: BlobID?
    }

    /// MD5 and a checksum of a range of an object, read from its blobs (never through HTTP) through `unsealer`,
    /// and with `rewrite` also written to a new blob sealed as `sealing` says. Throws
    /// ``StoreError/sourceChanged`` if the source is no longer `record`.
    private func readSource(
        _ source: CopySource, record: ObjectRecord, range: Range<Int64>, checksum algorithm: ChecksumAlgorithm,
        unsealer: (any BlobUnsealer)?, rewrite: Bool = false, sealing: WriteSealing? = nil
    ) async throws -> CopiedBytes {
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
        let writer: (any BlobWriter)?
        do {
            writer = rewrite ? try sealedWriter(try await storage.blobs.makeWriter(), sealing) : nil
        } catch {
            await reader.close()
            throw error
        }
        var output = writer.map { WriteBehind($0, expectedSize: Int64(range.count)) }
        var blobID: BlobID? = nil
        do {
            try await reader.read(range: range, chunkSize: Self.readChunkSize, unsealer: unsealer) { buffer in
                buffer.withUnsafeReadableBytes { bytes in
                    md5.update(bytes)
                    checksum.update(bytes)
                }
                try await output?.write(buffer)
            }
            if let writer, var pending = output {
                let last = try await pending.finishKeepingLast()
                blobID = try await writer.commit(appending: last)
            }
        } catch {
            await output?.cancel()
            await writer?.abort()
            await reader.close()
            throw error
        }
        await reader.close()
        return CopiedBytes(md5: md5.finalize(), checksum: checksum.finalize(), blobID: blobID)
    }

    /// `x-amz-copy-source-range: bytes=first-last`, both inside the source; the whole source when absent.
    static func copySourceRange(_ header: String?, size: Int64) throws(S3Error) -> Range<Int64> {
        try RequestNumber.copySourceRange(header, size: size)
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
