import Digest
import Foundation
import HTTPTypes
import HummingbirdCore
import ObjectStore
import S3Auth
import S3Wire

/// PutObject and DeleteObject.
extension S3Handlers {
    static let maxKeyBytes = 1024
    static let maxUserMetadataBytes = 2048

    /// Everything a PutObject checks before its body is read, so a doomed upload is refused before
    /// `100 Continue` invites the client to send gigabytes.
    struct PutPlan: Sendable {
        var metadata: ObjectMetadata
        var condition: WriteCondition
        var expectations: PayloadIngest.Expectations
        var lock: ObjectLockXML.Request
        var bucketLock: ObjectLockConfiguration?
        /// How the body is sealed at rest; nil for a plain object.
        var sealing: WriteSealing?
    }

    func planPut(_ bucket: String, _ key: String, _ context: RequestContext) async throws -> PutPlan {
        try Self.validateKey(key)
        let info = try await requireBucket(bucket)
        let lock = try ObjectLockXML.request(from: context.headers, now: Date())
        try lock.validate(for: info.objectLock)
        if !lock.isEmpty { try Self.requireIntegrityCheck(context) }
        var metadata = try Self.objectMetadata(from: context)
        metadata.acl = try await newObjectACL(bucket, context)
        let sealing = try await writeSealing(
            try ServerSideEncryptionHeaders.parseWrite { context.nonEmptyHeader($0) }, bucket: info, context)
        metadata.encryption = sealing?.encryption
        let plan = PutPlan(
            metadata: metadata, condition: try Self.writeCondition(from: context),
            expectations: try payloadExpectations(context), lock: lock, bucketLock: info.objectLock, sealing: sealing)
        // The index checks the condition again, atomically, at commit; this only spares a doomed upload.
        try await precheck(plan.condition, bucket: bucket, key: key)
        return plan
    }

    func putObject(_ bucket: String, _ key: String, _ context: RequestContext, body: RequestBody) async throws -> S3Response {
        let plan = if let planned = context.putPlan { planned } else { try await planPut(bucket, key, context) }
        let (condition, expectations) = (plan.condition, plan.expectations)

        let writer = try sealedWriter(try await storage.blobs.makeWriter(), plan.sealing)
        let outcome = try await PayloadIngest.ingest(body, into: writer, expecting: expectations, progress: context.bodyProgress)
        let created = Date()
        var metadata = plan.metadata
        plan.lock.apply(to: &metadata, bucket: plan.bucketLock, created: created)
        let record = ObjectRecord(
            bucket: bucket, key: key, size: outcome.size, etag: Self.etag(md5: outcome.md5, plan.sealing), lastModified: created,
            metadata: metadata, checksum: outcome.checksum,
            segments: [BlobSegment(blobID: outcome.blobID, size: outcome.size)])
        let change: IndexChange
        do {
            change = try await storage.putObject(record, condition: condition)
        } catch StoreError.preconditionFailed {
            throw try await conditionFailure(condition, bucket: bucket, key: key)
        }
        var headers = HTTPFields()
        headers[.eTag] = "\"\(record.etag)\""
        Self.addChecksumHeader(record.checksum, to: &headers)
        Self.addEncryptionHeaders(record.metadata.encryption, to: &headers)
        Self.addVersionHeader(change.stored, to: &headers)
        try await addExpirationHeader(for: change.stored ?? record, to: &headers)
        return .empty(.ok, headers: headers)
    }

    func deleteObject(_ bucket: String, _ key: String, _ context: RequestContext) async throws -> S3Response {
        var headers = HTTPFields()
        if let version = try Self.requestedVersion(context) {
            let change = try await storage.deleteVersion(
                bucket: bucket, key: key, versionID: version, bypassGovernance: ObjectLockXML.bypassesGovernance(context.headers))
            headers[.amzVersionID] = version
            if change.replaced?.isDeleteMarker == true { headers[.amzDeleteMarker] = "true" }
        } else {
            let change = try await storage.deleteObject(bucket: bucket, key: key)
            if let marker = change.stored {
                headers[.amzDeleteMarker] = "true"
                headers[.amzVersionID] = marker.versionName
            }
        }
        return .empty(.noContent, headers: headers)
    }

    /// Works out how the body is framed and what it must hash to, from the signature mode and headers.
    func payloadExpectations(
        _ context: RequestContext, maxSize: Int64? = nil, defaultChecksum: ChecksumAlgorithm = .crc64nvme
    ) throws -> PayloadIngest.Expectations {
        let maxSize = maxSize ?? configuration.maxObjectSize
        let contentMD5 = try context.header("Content-MD5").map { value throws(S3Error) -> [UInt8] in
            guard let digest = decodeBase64(value), digest.count == 16 else { throw S3Error(.invalidDigest) }
            return digest
        }
        let contentLength = try context.header("Content-Length").map { value throws(S3Error) -> Int64 in
            try RequestNumber.length(value, name: "Content-Length")
        }
        var trailerNames: [String] = []
        let declaredLength: Int64?
        if case .chunked(let config) = context.auth.payload {
            trailerNames = config.trailerNames
            guard let decoded = config.decodedContentLength else {
                throw S3Error(.missingContentLength, "You must provide the x-amz-decoded-content-length header with aws-chunked uploads.")
            }
            declaredLength = decoded
        } else if context.isFormUpload {
            declaredLength = nil
        } else {
            guard contentLength != nil || context.header("Transfer-Encoding") != nil else { throw S3Error(.missingContentLength) }
            declaredLength = contentLength
        }
        if let declaredLength, declaredLength > maxSize {
            throw S3Error(.entityTooLarge, details: [
                ("ProposedSize", String(declaredLength)), ("MaxSizeAllowed", String(maxSize)),
            ])
        }
        return PayloadIngest.Expectations(
            payload: context.auth.payload, contentMD5: contentMD5,
            checksum: try ChecksumExpectation.from(context, trailerNames: trailerNames, defaultAlgorithm: defaultChecksum),
            declaredLength: declaredLength, maxSize: maxSize)
    }

    /// `x-amz-version-id` for a record written to a versioning-enabled bucket. A write to a suspended bucket makes
    /// the `null` version, which AWS does not name in the response (its PutObject example for a suspended bucket).
    static func addVersionHeader(_ stored: ObjectRecord?, to headers: inout HTTPFields) {
        if let version = stored?.versionID, version != VersionID.null { headers[.amzVersionID] = version }
    }

    static func validateKey(_ key: String) throws(S3Error) {
        if key.utf8.count > maxKeyBytes {
            throw S3Error(.keyTooLongError, details: [("MaxSizeAllowed", String(maxKeyBytes)), ("Size", String(key.utf8.count))])
        }
    }

    static let storageClasses: Set<String> = [
        "STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER",
        "DEEP_ARCHIVE", "OUTPOSTS", "GLACIER_IR", "SNOW", "EXPRESS_ONEZONE",
    ]

    /// The headers S3 stores with an object.
    static func objectMetadata(from context: RequestContext) throws(S3Error) -> ObjectMetadata {
        var metadata = ObjectMetadata(
            contentType: context.nonEmptyHeader("Content-Type"),
            contentEncoding: context.nonEmptyHeader("Content-Encoding").flatMap(stripAWSChunked),
            contentDisposition: context.nonEmptyHeader("Content-Disposition"),
            contentLanguage: context.nonEmptyHeader("Content-Language"),
            cacheControl: context.nonEmptyHeader("Cache-Control"),
            expires: context.nonEmptyHeader("Expires"))
        var userBytes = 0
        for field in context.headers {
            let name = field.name.canonicalName
            guard name.hasPrefix("x-amz-meta-") else { continue }
            let shortName = String(name.dropFirst("x-amz-meta-".count))
            let value = MetadataHeaderEncoding.storedValue(field.value)
            userBytes += shortName.utf8.count + value.utf8.count
            if let existing = metadata.userMetadata[shortName] {
                metadata.userMetadata[shortName] = existing + "," + value
            } else {
                metadata.userMetadata[shortName] = value
            }
        }
        if userBytes > maxUserMetadataBytes {
            throw S3Error(.metadataTooLarge, details: [("MaxSizeAllowed", String(maxUserMetadataBytes)), ("Size", String(userBytes))])
        }
        if let tagging = context.header("x-amz-tagging") {
            let tags = try TagSet.parse(header: tagging)
            metadata.tags = tags.isEmpty ? nil : tags
        }
        if let location = context.nonEmptyHeader("x-amz-website-redirect-location") {
            guard location.hasPrefix("/") || location.hasPrefix("http://") || location.hasPrefix("https://") else {
                throw S3Error(.invalidArgument, "The website redirect location must have a prefix of 'http://' or 'https://' or '/'.")
            }
            guard location.utf8.count <= 2048 else {
                throw S3Error(.invalidArgument, "The length of website redirect location cannot exceed 2,048 characters.")
            }
            metadata.websiteRedirectLocation = location
        }
        if let storageClass = context.nonEmptyHeader("x-amz-storage-class") {
            guard storageClasses.contains(storageClass) else { throw S3Error(.invalidStorageClass, details: [("StorageClassRequested", storageClass)]) }
            metadata.storageClass = storageClass
        }
        return metadata
    }

    /// `aws-chunked` is transfer framing, not the object's encoding; S3 stores what remains, and a value without
    /// it exactly as sent.
    private static func stripAWSChunked(_ value: String) -> String? {
        let all = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let codings = all.filter { $0.lowercased() != "aws-chunked" }
        if codings.count == all.count { return value }
        return codings.isEmpty ? nil : codings.joined(separator: ", ")
    }
}
