import Foundation
import NIOCore
import ObjectStore
import PostgresNIO

/// A version's metadata (tags, lock settings, ACL) changes in one write transaction; the settings themselves are in
/// ``MetadataChanging``.
extension PostgresIndex: MetadataChanging {
    public func updateMetadata(
        bucket: String, key: String, versionID: String?, event: String?,
        _ change: @escaping @Sendable (inout ObjectMetadata) throws -> Void
    ) async throws -> ObjectRecord? {
        let keyBytes = Self.keyBytes(key)
        return try await writeCausingEvents { session, origin in
            let state = try await Self.versioning(bucket, session)
            let current = try await Self.currentRecord(bucket: bucket, key: keyBytes, session)
            var target: ObjectRecord?
            if let versionID, state != nil {
                target = try await Self.versionRecord(bucket: bucket, key: keyBytes, versionID: versionID, session)
            } else if versionID == nil || versionID == VersionID.null {
                target = current
            }
            guard var record = target else { return (nil, false) }
            if record.isDeleteMarker { return (record, false) }
            try change(&record.metadata)
            let metadata = try IndexColumns.json(record.metadata)
            if let current, current.versionName == record.versionName {
                try await session.execute("UPDATE objects SET metadata = \(metadata) WHERE bucket = \(bucket) AND key = \(keyBytes)")
            }
            if state != nil {
                try await session.execute("""
                    UPDATE versions SET metadata = \(metadata) WHERE bucket = \(bucket) AND key = \(keyBytes) AND version_id = \(record.versionName)
                    """)
            }
            try await Self.queueForLifecycle(bucket: bucket, key: keyBytes, session)
            let recorded = if let event { try await Self.recordEvent(event, about: record, origin: origin, session) } else { false }
            return (record, recorded)
        }
    }
}

/// Bucket settings: JSON columns of `buckets`.
extension PostgresIndex: BucketSettingsIndex {
    public func setBucketTags(_ tags: [ObjectTag]?, bucket: String) async throws {
        try await setBucketColumn("tags", try tags.map { try IndexColumns.json($0) }, bucket: bucket)
    }

    public func bucketTags(bucket: String) async throws -> [ObjectTag]? {
        try await bucketColumn("tags", bucket: bucket).map { try IndexColumns.decode([ObjectTag].self, json: $0) }
    }

    public func setLifecycle(_ configuration: LifecycleConfiguration?, bucket: String) async throws {
        let encoded = try configuration.map { try IndexColumns.json($0) }
        try await writeSetting { session in
            try await Self.requireBucket(bucket, session)
            try await session.execute("UPDATE buckets SET lifecycle = \(encoded) WHERE name = \(bucket)")
            if encoded != nil { try await Self.queueBucketForLifecycle(bucket, session) }
        }
    }

    public func lifecycle(bucket: String) async throws -> LifecycleConfiguration? {
        try await bucketColumn("lifecycle", bucket: bucket).map { try IndexColumns.decode(LifecycleConfiguration.self, json: $0) }
    }

    public func setObjectLock(_ configuration: ObjectLockConfiguration, bucket: String) async throws {
        let encoded = try IndexColumns.json(configuration)
        try await writeSetting { session in
            // Object lock needs every write to keep a version, so versioning must be on and stay on.
            guard try await Self.versioning(bucket, session) == .enabled else { throw StoreError.invalidBucketState }
            try await session.execute("UPDATE buckets SET object_lock = \(encoded) WHERE name = \(bucket)")
        }
    }

    public func setBucketPolicy(_ policy: String?, bucket: String) async throws {
        try await setBucketColumn("policy", policy, bucket: bucket)
    }

    public func bucketPolicy(bucket: String) async throws -> String? {
        try await bucketColumn("policy", bucket: bucket)
    }

    public func setBucketACL(_ acl: AccessControlList?, bucket: String) async throws {
        try await setBucketColumn("acl", try acl.map { try IndexColumns.json($0) }, bucket: bucket)
    }

    public func setOwnership(_ ownership: ObjectOwnership?, bucket: String) async throws {
        try await setBucketColumn("ownership", ownership?.rawValue, bucket: bucket)
    }

    public func setPublicAccessBlock(_ block: PublicAccessBlock?, bucket: String) async throws {
        try await setBucketColumn("public_access_block", try block.map { try IndexColumns.json($0) }, bucket: bucket)
    }

    public func setCORS(_ rules: [CORSRule]?, bucket: String) async throws {
        try await setBucketColumn("cors", try rules.map { try IndexColumns.json($0) }, bucket: bucket)
    }

    public func setWebsite(_ website: WebsiteConfiguration?, bucket: String) async throws {
        try await setBucketColumn("website", try website.map { try IndexColumns.json($0) }, bucket: bucket)
    }

    public func setBucketEncryption(_ encryption: BucketEncryption?, bucket: String) async throws {
        try await setBucketColumn("encryption", try encryption.map { try IndexColumns.json($0) }, bucket: bucket)
    }

    /// `column` is one of this file's literals, never a caller's text.
    private func setBucketColumn(_ column: StaticString, _ value: String?, bucket: String) async throws {
        let name = "\(column)"
        try await writeSetting { session in
            let updated = try await session.rows(
                "UPDATE buckets SET \(unescaped: name) = \(value) WHERE name = \(bucket) RETURNING 1")
            if updated.isEmpty { throw StoreError.noSuchBucket }
        }
    }

    private func bucketColumn(_ column: StaticString, bucket: String) async throws -> String? {
        let name = "\(column)"
        return try await autocommit { session in
            guard let row = try await session.row("SELECT \(unescaped: name) FROM buckets WHERE name = \(bucket)") else {
                throw StoreError.noSuchBucket
            }
            return try row[0].decode(String?.self)
        }
    }
}
