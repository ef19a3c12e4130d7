import Foundation
import HTTPTypes
import HummingbirdCore
import ObjectStore
import S3Wire

/// Object lock: the bucket's configuration, and each version's retention and legal hold.
extension S3Handlers {
    func getObjectLockConfiguration(_ bucket: String) async throws -> S3Response {
        guard let configuration = try await requireBucket(bucket).objectLock else {
            throw S3Error(.objectLockConfigurationNotFoundError, details: [("BucketName", bucket)])
        }
        var xml = XMLWriter()
        ObjectLockXML.write(configuration, into: &xml)
        return .xml(xml)
    }

    func putObjectLockConfiguration(_ bucket: String, _ context: RequestContext, body: RequestBody) async throws -> S3Response {
        try Self.requireIntegrityCheck(context)
        _ = try await requireBucket(bucket)
        let document = try await body.collectVerifiedDocument(context, limit: 64 << 10)
        let configuration = try ObjectLockXML.parseConfiguration(document)
        do {
            try await storage.index.setObjectLock(configuration, bucket: bucket)
        } catch StoreError.invalidBucketState {
            throw S3Error(.invalidBucketState, "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration")
        }
        return .empty(.ok)
    }

    func getObjectRetention(_ bucket: String, _ key: String, _ context: RequestContext) async throws -> S3Response {
        let record = try await lockableRecord(bucket, key, context)
        guard let retention = record.metadata.retention else { throw S3Error(.noSuchObjectLockConfiguration) }
        var xml = XMLWriter()
        ObjectLockXML.write(retention, into: &xml)
        return .xml(xml)
    }

    func putObjectRetention(_ bucket: String, _ key: String, _ context: RequestContext, body: RequestBody) async throws -> S3Response {
        let bypass = ObjectLockXML.bypassesGovernance(context.headers)
        return try await changeLockSetting(bucket, key, context, body: body) { document, version in
            let retention = try ObjectLockXML.parseRetention(document, now: Date())
            return try await storage.index.setRetention(retention, bucket: bucket, key: key, versionID: version, bypassGovernance: bypass)
        }
    }

    func getObjectLegalHold(_ bucket: String, _ key: String, _ context: RequestContext) async throws -> S3Response {
        let record = try await lockableRecord(bucket, key, context)
        guard let hold = record.metadata.legalHold else { throw S3Error(.noSuchObjectLockConfiguration) }
        var xml = XMLWriter()
        ObjectLockXML.writeLegalHold(hold, into: &xml)
        return .xml(xml)
    }

    func putObjectLegalHold(_ bucket: String, _ key: String, _ context: RequestContext, body: RequestBody) async throws -> S3Response {
        try await changeLockSetting(bucket, key, context, body: body) { document, version in
            try await storage.index.setLegalHold(ObjectLockXML.parseLegalHold(document), bucket: bucket, key: key, versionID: version)
        }
    }

    /// A PutObjectRetention or PutObjectLegalHold: checks the request, then `change` parses the document and
    /// stores it on the version, returning the version (nil if there is none).
    private func changeLockSetting(
        _ bucket: String, _ key: String, _ context: RequestContext, body: RequestBody,
        change: ([UInt8], String?) async throws -> ObjectRecord?
    ) async throws -> S3Response {
        try Self.requireIntegrityCheck(context)
        try await requireObjectLock(bucket)
        let version = try Self.requestedVersion(context)
        let document = try await body.collectVerifiedDocument(context, limit: 64 << 10)
        guard let record = try await change(document, version) else {
            throw try await missingObjectError(bucket, key, version: version)
        }
        if record.isDeleteMarker { throw Self.lockOnDeleteMarkerError(record) }
        return .empty(.ok)
    }

    /// Throws InvalidRequest unless the bucket has object lock enabled.
    private func requireObjectLock(_ bucket: String) async throws {
        if try await requireBucket(bucket).objectLock == nil {
            throw S3Error(.invalidRequest, "Bucket is missing Object Lock Configuration")
        }
    }

    /// The version whose lock settings a Get reads: the current object, or the named version.
    private func lockableRecord(_ bucket: String, _ key: String, _ context: RequestContext) async throws -> ObjectRecord {
        try await requireObjectLock(bucket)
        let record = try await requireVersion(bucket, key, version: try Self.requestedVersion(context))
        if record.isDeleteMarker { throw Self.lockOnDeleteMarkerError(record) }
        return record
    }

    /// A delete marker has no lock settings: S3 answers 405, naming the marker.
    private static func lockOnDeleteMarkerError(_ marker: ObjectRecord) -> S3Error {
        var error = S3Error(.methodNotAllowed, details: [("ResourceType", "DeleteMarker")])
        error.headers = [("x-amz-delete-marker", "true"), ("x-amz-version-id", marker.versionName)]
        return error
    }
}
