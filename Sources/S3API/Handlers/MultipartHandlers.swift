import Digest
import Foundation
import HTTPTypes
import HummingbirdCore
import ObjectStore
import S3Wire

/// CreateMultipartUpload, UploadPart, CompleteMultipartUpload and AbortMultipartUpload.
extension S3Handlers {
    static let maxPartSize: Int64 = 5 << 30

    func createMultipartUpload(_ bucket: String, _ key: String, _ context: RequestContext) async throws -> S3Response {
        try Self.validateKey(key)
        var metadata = try Self.objectMetadata(from: context)
        metadata.acl = try await newObjectACL(bucket, context)
        let mode = try MultipartChecksumMode.fromCreateHeaders(
            algorithm: context.nonEmptyHeader("x-amz-checksum-algorithm"), type: context.nonEmptyHeader("x-amz-checksum-type"))
        let initiated = Date()
        let lock = try ObjectLockXML.request(from: context.headers, now: initiated)
        let info = try await requireBucket(bucket)
        let bucketLock = info.objectLock
        try lock.validate(for: bucketLock)
        metadata.encryption = try await writeSealing(
            try ServerSideEncryptionHeaders.parseWrite { context.nonEmptyHeader($0) }, bucket: info, context)?.encryption
        // S3 dates a multipart object from its initiation, so its default retention starts then too.
        lock.apply(to: &metadata, bucket: bucketLock, created: initiated)
        let upload = MultipartUpload(
            uploadID: Self.newUploadID(), bucket: bucket, key: key, initiated: initiated, metadata: metadata,
            checksumAlgorithm: mode.requested ? mode.algorithm.rawValue : nil, checksumType: mode.requested ? mode.type : nil)
        try await storage.index.createUpload(upload)
        var xml = XMLWriter()
        xml.element("InitiateMultipartUploadResult", namespace: XMLWriter.s3Namespace) { x in
            x.element("Bucket", bucket)
            x.element("Key", key)
            x.element("UploadId", upload.uploadID)
        }
        var response = S3Response.xml(xml)
        Self.addEncryptionHeaders(upload.metadata.encryption, to: &response.headers)
        if mode.requested {
            response.headers[.amzChecksumAlgorithm] = mode.algorithm.rawValue
            response.headers[.amzChecksumType] = mode.type
        }
        return response
    }

    /// Everything an UploadPart checks before its body is read.
    struct PartPlan: Sendable {
        var number: Int
        var upload: MultipartUpload
        var expectations: PayloadIngest.Expectations
        /// The upload's encryption, with this part's key: every part is sealed with a data key of its own.
        var sealing: WriteSealing?
    }

    func planPart(_ bucket: String, _ key: String, uploadID: String, _ context: RequestContext) async throws -> PartPlan {
        let number = try Self.partNumber(context.query["partNumber"])
        guard let upload = try await storage.index.upload(bucket: bucket, key: key, uploadID: uploadID) else {
            _ = try await requireBucket(bucket)
            throw S3Error(.noSuchUpload, details: [("UploadId", uploadID)])
        }
        let mode = MultipartChecksumMode(upload)
        var expectations = try payloadExpectations(context, maxSize: Self.maxPartSize, defaultChecksum: mode.algorithm)
        if mode.requested {
            // A composite checksum is built from the client's part checksums, so each part must bring one.
            let sent: String? = if case .computed = expectations.checksum.source { nil } else { expectations.checksum.algorithm.rawValue.lowercased() }
            if expectations.checksum.algorithm != mode.algorithm || (sent == nil && mode.type == MultipartChecksumMode.composite) {
                throw S3Error(.invalidRequest, "Checksum Type mismatch occurred, expected checksum Type: \(mode.algorithm.rawValue.lowercased()), actual checksum Type: \(sent ?? "null")")
            }
        }
        expectations.maxSize = Self.maxPartSize
        return PartPlan(
            number: number, upload: upload, expectations: expectations, sealing: try await partSealing(upload, context))
    }

    func uploadPart(_ bucket: String, _ key: String, uploadID: String, _ context: RequestContext, body: RequestBody) async throws -> S3Response {
        let plan = if let planned = context.partPlan { planned } else { try await planPart(bucket, key, uploadID: uploadID, context) }
        let writer = try sealedWriter(try await storage.blobs.makeWriter(), plan.sealing)
        let outcome = try await PayloadIngest.ingest(body, into: writer, expecting: plan.expectations, progress: context.bodyProgress)
        let part = UploadedPart(
            number: plan.number, size: outcome.size, etag: Self.etag(md5: outcome.md5, plan.sealing), lastModified: Date(),
            checksum: outcome.checksum, segments: [BlobSegment(blobID: outcome.blobID, size: outcome.size)])
        do {
            try await storage.putPart(part, bucket: bucket, key: key, uploadID: uploadID)
        } catch StoreError.noSuchUpload {
            throw S3Error(.noSuchUpload, details: [("UploadId", uploadID)])
        }
        var headers = HTTPFields()
        headers[.eTag] = "\"\(part.etag)\""
        Self.addChecksumHeader(outcome.checksum, to: &headers, withType: false)
        Self.addEncryptionHeaders(plan.upload.metadata.encryption, to: &headers)
        return .empty(.ok, headers: headers)
    }

    func completeMultipartUpload(
        _ bucket: String, _ key: String, uploadID: String, _ context: RequestContext, body: RequestBody
    ) async throws -> S3Response {
        let condition = try Self.writeCondition(from: context)
        let objectSize = try context.nonEmptyHeader("x-amz-mp-object-size").map { text throws(S3Error) -> Int64 in
            try RequestNumber.length(text, name: "x-amz-mp-object-size")
        }
        let checksumType = context.nonEmptyHeader("x-amz-checksum-type")?.uppercased()
        var objectChecksum: (ChecksumAlgorithm, String)?
        for algorithm in ChecksumAlgorithm.allCases {
            if let value = context.nonEmptyHeader(algorithm.headerName) { objectChecksum = (algorithm, value) }
        }
        // S3 checks the upload exists before reading the parts list; a Complete repeated after the upload
        // completed gets the first answer again.
        guard let upload = try await storage.index.upload(bucket: bucket, key: key, uploadID: uploadID) else {
            _ = try await requireBucket(bucket)
            return try await repeatedCompletion(bucket, key, uploadID: uploadID, context, body: body)
        }
        if upload.metadata.encryption?.mode == .customer || (upload.checksumAlgorithm != nil && upload.metadata.encryption?.kmsKeyID != nil) {
            // An SSE-C upload is completed with its key, as its parts were uploaded; an SSE-KMS upload with checksums
            // needs kms:Decrypt on its key to complete, as on AWS (CompleteMultipartUpload's permissions).
            _ = try await partSealing(upload, context)
        }
        if let checksumType, checksumType != MultipartChecksumMode(upload).type {
            throw S3Error(.invalidRequest, "The upload was created using the \(MultipartChecksumMode(upload).type) checksum mode. The complete request must use the same checksum mode.")
        }
        let document = try await body.collectVerifiedDocument(context, limit: 8 << 20, checksumHeadersDescribeBody: false)
        let requested = try CompleteMultipartUploadXML.parse(document)
        let fingerprint = Self.completionFingerprint(requested)
        let assembly = MultipartAssembly(
            requested: requested, objectChecksum: objectChecksum, objectSize: objectSize, lastModified: Date())
        let record: ObjectRecord
        do {
            record = try await storage.completeUpload(
                bucket: bucket, key: key, uploadID: uploadID, condition: condition, fingerprint: fingerprint
            ) { upload, parts in
                try assembly.assemble(upload, stored: parts)
            }
        } catch StoreError.noSuchUpload {
            // A concurrent Complete of the same upload got there first.
            return try await repeatedResult(bucket, key, uploadID: uploadID, fingerprint: fingerprint)
        } catch StoreError.preconditionFailed {
            throw try await conditionFailure(condition, bucket: bucket, key: key)
        }
        var response = Self.completionResult(bucket, key, etag: record.etag, checksum: record.checksum, versionID: record.versionID)
        Self.addEncryptionHeaders(record.metadata.encryption, to: &response.headers)
        return response
    }

    /// A Complete of an upload that is no longer in progress: the first Complete's answer if it named the same
    /// parts within the last day, else NoSuchUpload.
    private func repeatedCompletion(
        _ bucket: String, _ key: String, uploadID: String, _ context: RequestContext, body: RequestBody
    ) async throws -> S3Response {
        guard try await storage.index.completedUpload(bucket: bucket, key: key, uploadID: uploadID) != nil else {
            throw S3Error(.noSuchUpload, details: [("UploadId", uploadID)])
        }
        let document = try await body.collectVerifiedDocument(context, limit: 8 << 20, checksumHeadersDescribeBody: false)
        let fingerprint = Self.completionFingerprint(try CompleteMultipartUploadXML.parse(document))
        return try await repeatedResult(bucket, key, uploadID: uploadID, fingerprint: fingerprint)
    }

    private func repeatedResult(_ bucket: String, _ key: String, uploadID: String, fingerprint: String) async throws -> S3Response {
        guard let receipt = try await storage.index.completedUpload(bucket: bucket, key: key, uploadID: uploadID),
              receipt.fingerprint == fingerprint
        else { throw S3Error(.noSuchUpload, details: [("UploadId", uploadID)]) }
        return Self.completionResult(bucket, key, etag: receipt.etag, checksum: receipt.checksum, versionID: receipt.versionID)
    }

    /// Names the parts a Complete listed (numbers and ETags), so a repeat can be told from a different request.
    static func completionFingerprint(_ parts: [RequestedPart]) -> String {
        var sha = SHA256()
        for part in parts { sha.update(Array("\(part.number):\(part.etag)\n".utf8)) }
        return sha.finalize().hexString
    }

    static func completionResult(_ bucket: String, _ key: String, etag: String, checksum: StoredChecksum?, versionID: String?) -> S3Response {
        var xml = XMLWriter()
        xml.element("CompleteMultipartUploadResult", namespace: XMLWriter.s3Namespace) { x in
            x.element("Location", "/\(bucket)/\(Percent.encode(key, keepSlash: true))")
            x.element("Bucket", bucket)
            x.element("Key", key)
            x.element("ETag", "\"\(etag)\"")
            Self.writeChecksumElements(checksum, into: &x)
        }
        var response = S3Response.xml(xml)
        if let versionID, versionID != VersionID.null { response.headers[.amzVersionID] = versionID }
        return response
    }

    func abortMultipartUpload(_ bucket: String, _ key: String, uploadID: String) async throws -> S3Response {
        do {
            try await storage.abortUpload(bucket: bucket, key: key, uploadID: uploadID)
        } catch StoreError.noSuchUpload {
            _ = try await requireBucket(bucket)
            throw S3Error(.noSuchUpload, details: [("UploadId", uploadID)])
        }
        return .empty(.noContent)
    }

    static func partNumber(_ text: String?) throws(S3Error) -> Int {
        try RequestNumber.partNumber(text)
    }

    /// The creation time in milliseconds (12 hex digits), then 64 random bits: unguessable, safe in a query
    /// string unencoded, and sorting in creation order as ListMultipartUploads lists uploads of one key.
    static func newUploadID(now: Date = Date()) -> String {
        var generator = SystemRandomNumberGenerator()
        func hex(_ value: UInt64, digits: Int) -> String {
            let text = String(value, radix: 16)
            return String(repeating: "0", count: max(0, digits - text.count)) + text
        }
        return hex(UInt64(now.timeIntervalSince1970 * 1000), digits: 12) + hex(generator.next(), digits: 16)
    }

    static func addChecksumHeader(_ checksum: StoredChecksum?, to headers: inout HTTPFields, withType: Bool = true) {
        guard let checksum, let algorithm = ChecksumAlgorithm(rawValue: checksum.algorithm),
              let name = HTTPField.Name(algorithm.headerName) else { return }
        headers[name] = checksum.value
        if withType { headers[.amzChecksumType] = checksum.type }
    }

    /// `<ChecksumCRC32>` (or another algorithm) and `<ChecksumType>`, as S3's result documents carry them.
    static func writeChecksumElements(_ checksum: StoredChecksum?, into x: inout XMLWriter, withType: Bool = true) {
        guard let checksum else { return }
        x.element("Checksum" + checksum.algorithm, checksum.value)
        if withType { x.element("ChecksumType", checksum.type) }
    }
}

extension HTTPField.Name {
    static let amzChecksumAlgorithm = HTTPField.Name("x-amz-checksum-algorithm")!
}
