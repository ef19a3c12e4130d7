import Foundation

/// An index that can change a version's stored metadata in one write transaction. The object-level settings
/// kept in that metadata (tags, retention, legal hold, storage class, ACL) are then the same few lines on
/// every index, so they live here once.
public protocol MetadataChanging: Sendable {
    /// Changes the stored metadata of a version (the current object when `versionID` is nil) in both the
    /// current row and the version row, and returns the updated record; nil if there is no such version.
    /// A delete marker is returned unchanged. With `event`, records that event about the version.
    /// `change` runs inside the write transaction and may throw to change nothing.
    func updateMetadata(
        bucket: String, key: String, versionID: String?, event: String?,
        _ change: @escaping @Sendable (inout ObjectMetadata) throws -> Void
    ) async throws -> ObjectRecord?
}

extension MetadataChanging {
    public func setTags(_ tags: [ObjectTag], bucket: String, key: String, versionID: String?) async throws -> ObjectRecord? {
        try await updateMetadata(
            bucket: bucket, key: key, versionID: versionID, event: tags.isEmpty ? "s3:ObjectTagging:Delete" : "s3:ObjectTagging:Put"
        ) { $0.tags = tags.isEmpty ? nil : tags }
    }

    public func setRetention(
        _ retention: ObjectRetention?, bucket: String, key: String, versionID: String?, bypassGovernance: Bool
    ) async throws -> ObjectRecord? {
        try await updateMetadata(bucket: bucket, key: key, versionID: versionID, event: nil) { metadata in
            // Checked in the write transaction, so two racing changes cannot both pass against the old value.
            guard ObjectRetention.mayReplace(metadata.retention, with: retention, at: Date(), bypassGovernance: bypassGovernance)
            else { throw StoreError.objectLocked }
            metadata.retention = retention
        }
    }

    public func setLegalHold(_ on: Bool, bucket: String, key: String, versionID: String?) async throws -> ObjectRecord? {
        try await updateMetadata(bucket: bucket, key: key, versionID: versionID, event: nil) { $0.legalHold = on }
    }

    public func setStorageClass(_ storageClass: String, bucket: String, key: String, versionID: String?) async throws {
        _ = try await updateMetadata(bucket: bucket, key: key, versionID: versionID, event: nil) { $0.storageClass = storageClass }
    }

    public func setObjectACL(_ acl: AccessControlList?, bucket: String, key: String, versionID: String?) async throws -> ObjectRecord? {
        try await updateMetadata(bucket: bucket, key: key, versionID: versionID, event: "s3:ObjectAcl:Put") { $0.acl = acl }
    }
}
