import Foundation
import GRDB
import ObjectStore

/// A version's metadata (tags, lock settings, ACL) changes in one write transaction; the settings themselves are in
/// ``MetadataChanging``. Tags follow a version through copies and completes (lock settings are set afresh on a
/// copy, by the handler).
extension SQLiteIndex: MetadataChanging {
    public func updateMetadata(
        bucket: String, key: String, versionID: String?, event: String?,
        _ change: @escaping @Sendable (inout ObjectMetadata) throws -> Void
    ) async throws -> ObjectRecord? {
        let keyData = Self.keyData(key)
        return try await writeCausingEvents { db, origin in
            let state = try Self.versioning(bucket, db)
            let current = try Self.currentRecord(bucket: bucket, key: keyData, db)
            var target: ObjectRecord?
            if let versionID, state != nil {
                target = try Self.versionRecord(bucket: bucket, key: keyData, versionID: versionID, db)
            } else if versionID == nil || versionID == VersionID.null {
                target = current
            }
            guard var record = target else { return (nil, false) }
            if record.isDeleteMarker { return (record, false) }
            try change(&record.metadata)
            let metadata = try Self.json(record.metadata)
            if let current, current.versionName == record.versionName {
                try db.execute(sql: "UPDATE objects SET metadata = ? WHERE bucket = ? AND key = ?", arguments: [metadata, bucket, keyData])
            }
            if state != nil {
                try db.execute(
                    sql: "UPDATE versions SET metadata = ? WHERE bucket = ? AND key = ? AND version_id = ?",
                    arguments: [metadata, bucket, keyData, record.versionName])
            }
            try Self.queueForLifecycle(bucket: bucket, key: keyData, db)
            let recorded = try event.map { try Self.recordEvent($0, about: record, origin: origin, db) } ?? false
            return (record, recorded)
        }
    }
}

/// Bucket tags, the lifecycle configuration and object lock: JSON columns of `buckets`.
extension SQLiteIndex: BucketSettingsIndex {
    public func setBucketTags(_ tags: [ObjectTag]?, bucket: String) async throws {
        let encoded = try tags.map { try Self.json($0) }
        try await write { db in
            try Self.requireBucket(bucket, db)
            try db.execute(sql: "UPDATE buckets SET tags = ? WHERE name = ?", arguments: [encoded, bucket])
        }
    }

    public func bucketTags(bucket: String) async throws -> [ObjectTag]? {
        let json = try await read { db -> String? in
            guard let row = try Row.fetchOne(db, sql: "SELECT tags FROM buckets WHERE name = ?", arguments: [bucket]) else {
                throw StoreError.noSuchBucket
            }
            return row["tags"]
        }
        return try json.map { try JSONDecoder().decode([ObjectTag].self, from: Data($0.utf8)) }
    }

    public func setLifecycle(_ configuration: LifecycleConfiguration?, bucket: String) async throws {
        let encoded = try configuration.map { try Self.json($0) }
        try await write { db in
            try Self.requireBucket(bucket, db)
            try db.execute(sql: "UPDATE buckets SET lifecycle = ? WHERE name = ?", arguments: [encoded, bucket])
            if encoded != nil { try Self.queueBucketForLifecycle(bucket, db) }
        }
    }

    public func setObjectLock(_ configuration: ObjectLockConfiguration, bucket: String) async throws {
        let encoded = try Self.json(configuration)
        try await write { db in
            // Object lock needs every write to keep a version, so versioning must be on and stay on.
            guard try Self.versioning(bucket, db) == .enabled else { throw StoreError.invalidBucketState }
            try db.execute(sql: "UPDATE buckets SET object_lock = ? WHERE name = ?", arguments: [encoded, bucket])
        }
    }

    public func lifecycle(bucket: String) async throws -> LifecycleConfiguration? {
        let json = try await read { db -> String? in
            guard let row = try Row.fetchOne(db, sql: "SELECT lifecycle FROM buckets WHERE name = ?", arguments: [bucket]) else {
                throw StoreError.noSuchBucket
            }
            return row["lifecycle"]
        }
        return try json.map { try JSONDecoder().decode(LifecycleConfiguration.self, from: Data($0.utf8)) }
    }
}

/// The bucket policy: its JSON text as the owner put it, in `buckets.policy`.
extension SQLiteIndex {
    public func setBucketPolicy(_ policy: String?, bucket: String) async throws {
        try await write { db in
            try Self.requireBucket(bucket, db)
            try db.execute(sql: "UPDATE buckets SET policy = ? WHERE name = ?", arguments: [policy, bucket])
        }
    }

    public func bucketPolicy(bucket: String) async throws -> String? {
        try await read { db -> String? in
            guard let row = try Row.fetchOne(db, sql: "SELECT policy FROM buckets WHERE name = ?", arguments: [bucket]) else {
                throw StoreError.noSuchBucket
            }
            return row["policy"]
        }
    }
}

/// ACLs and the settings that govern them: `buckets.acl`, `buckets.ownership`, `buckets.public_access_block`, and
/// each version's ACL in its metadata.
extension SQLiteIndex {
    public func setBucketACL(_ acl: AccessControlList?, bucket: String) async throws {
        try await setBucketColumn("acl", try acl.map { try Self.json($0) }, bucket: bucket)
    }

    public func setOwnership(_ ownership: ObjectOwnership?, bucket: String) async throws {
        try await setBucketColumn("ownership", ownership?.rawValue, bucket: bucket)
    }

    public func setPublicAccessBlock(_ block: PublicAccessBlock?, bucket: String) async throws {
        try await setBucketColumn("public_access_block", try block.map { try Self.json($0) }, bucket: bucket)
    }

    public func setCORS(_ rules: [CORSRule]?, bucket: String) async throws {
        try await setBucketColumn("cors", try rules.map { try Self.json($0) }, bucket: bucket)
    }

    public func setWebsite(_ website: WebsiteConfiguration?, bucket: String) async throws {
        try await setBucketColumn("website", try website.map { try Self.json($0) }, bucket: bucket)
    }

    public func setBucketEncryption(_ encryption: BucketEncryption?, bucket: String) async throws {
        try await setBucketColumn("encryption", try encryption.map { try Self.json($0) }, bucket: bucket)
    }

    private func setBucketColumn(_ column: String, _ value: String?, bucket: String) async throws {
        try await write { db in
            try Self.requireBucket(bucket, db)
            try db.execute(sql: "UPDATE buckets SET \(column) = ? WHERE name = ?", arguments: [value, bucket])
        }
    }
}
