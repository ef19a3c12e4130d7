import Foundation
import GRDB
import ObjectStore

extension SQLiteIndex {
    /// The current record of `key`, or nil. Throws ``StoreError/noSuchBucket``.
    public func object(bucket: String, key: String) async throws -> ObjectRecord? {
        try await readOneStatement { db in
            let row = try Row.fetchOne(db.cachedStatement(sql: Self.objectLookupSQL), arguments: [Self.keyData(key), bucket])
            guard let row else { throw StoreError.noSuchBucket }
            if row["key"] == nil { return nil }
            return try Self.objectRecord(row, bucket: bucket)
        }
    }

    /// One statement answers both "does the bucket exist" and "what is the record". Built once: the statement cache
    /// is keyed by this text.
    static let objectLookupSQL = """
        SELECT buckets.name AS bucket_name, \(objectColumns(prefix: "objects."))
        FROM buckets LEFT JOIN objects ON objects.bucket = buckets.name AND objects.key = ?
        WHERE buckets.name = ?
        """
    static let currentRecordSQL = "SELECT \(objectColumns(prefix: "")) FROM objects WHERE bucket = ? AND key = ?"

    /// Checks `condition` against the current record and stores `record` in its place, in one transaction, so
    /// a concurrent writer cannot slip between the check and the write. Updates the blob reference counts in the
    /// same transaction. In a versioned bucket the record becomes a new version.
    /// - Throws: ``StoreError/noSuchBucket``, ``StoreError/preconditionFailed`` or ``StoreError/sourceChanged``.
    public func putObject(_ record: ObjectRecord, condition: WriteCondition, source: SharedSource?) async throws -> IndexChange {
        let keyData = Self.keyData(record.key)
        return try await writeCausingEvents { db, origin in
            let state = try Self.versioning(record.bucket, db)
            if let source { try Self.requireSource(source, db) }
            let current = try Self.currentRecord(bucket: record.bucket, key: keyData, db)
            try Self.check(condition, current: current)
            let (stored, freed) = try Self.storeCurrent(record, replacing: current, versioning: state, db)
            let change = IndexChange(replaced: current, freedBlobs: freed, stored: stored)
            return (change, try Self.recordEvents(of: change, origin: origin, db))
        }
    }

    /// Deletes the current object of `key`, or in a versioned bucket puts a delete marker on top of it.
    /// Throws ``StoreError/noSuchBucket``.
    public func deleteObject(bucket: String, key: String) async throws -> IndexChange {
        try await writeCausingEvents { db, origin in
            let state = try Self.versioning(bucket, db)
            let change = try Self.deleteCurrent(bucket: bucket, key: key, versioning: state, db)
            return (change, try Self.recordEvents(of: change, origin: origin, db))
        }
    }

    /// Deletes many keys or versions in one transaction, so a batch of 1,000 costs one commit.
    public func deleteObjects(
        bucket: String, requests: [DeleteRequest], bypassGovernance: Bool
    ) async throws -> [Result<IndexChange, StoreError>] {
        try await writeCausingEvents { db, origin in
            let state = try Self.versioning(bucket, db)
            var recorded = false
            let results = try requests.map { request -> Result<IndexChange, StoreError> in
                do {
                    let change = if let versionID = request.versionID {
                        try Self.deleteVersion(
                            bucket: bucket, key: request.key, versionID: versionID, versioning: state,
                            bypassGovernance: bypassGovernance, db)
                    } else {
                        try Self.deleteCurrent(bucket: bucket, key: request.key, versioning: state, db)
                    }
                    if try Self.recordEvents(of: change, origin: origin, db) { recorded = true }
                    return .success(change)
                } catch StoreError.objectLocked {
                    // Refused before it changed anything, so the rest of the batch goes on.
                    return .failure(.objectLocked)
                }
            }
            return (results, recorded)
        }
    }

    /// Records whose keys fall in `range`, in byte order of key, at most `limit` of them: one seek in the
    /// primary key, then `limit` steps along it. Throws ``StoreError/noSuchBucket``.
    public func scan(bucket: String, range: KeyRange, limit: Int) async throws -> [ObjectRecord] {
        let (sql, arguments) = Self.scanQuery(bucket: bucket, range: range, limit: limit)
        return try await read { db in
            try Self.requireBucket(bucket, db)
            if limit <= 0 { return [] }
            return try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments)
                .map { try Self.objectRecord($0, bucket: bucket) }
        }
    }

    /// SQLite's plan for a ``scan(bucket:range:limit:)``, one line per step; tests check it is a seek.
    func scanQueryPlan(range: KeyRange) async throws -> [String] {
        let (sql, arguments) = Self.scanQuery(bucket: "", range: range, limit: 1)
        return try await read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] }
        }
    }

    private static func scanQuery(bucket: String, range: KeyRange, limit: Int) -> (String, StatementArguments) {
        var sql = "SELECT \(listingColumns) FROM objects WHERE bucket = ?"
        var arguments: StatementArguments = [bucket]
        keyRangeConditions(range, sql: &sql, arguments: &arguments)
        sql += " ORDER BY key LIMIT ?"
        arguments += [max(limit, 0)]
        return (sql, arguments)
    }

    static func check(_ condition: WriteCondition, current: ObjectRecord?) throws {
        if !condition.holds(for: current) { throw StoreError.preconditionFailed }
    }

    static func upsert(_ encoded: EncodedRecord, _ db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO objects (bucket, key, size, etag, last_modified, metadata, checksum, segments, parts, version_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (bucket, key) DO UPDATE SET
                    size = excluded.size, etag = excluded.etag, last_modified = excluded.last_modified,
                    metadata = excluded.metadata, checksum = excluded.checksum, segments = excluded.segments,
                    parts = excluded.parts, version_id = excluded.version_id
                """
        ).execute(arguments: encoded.arguments)
    }

    /// Appends the `key` bounds of `range` to a WHERE clause: the seek every listing query shares.
    static func keyRangeConditions(_ range: KeyRange, sql: inout String, arguments: inout StatementArguments) {
        switch (range.lower.isEmpty, range.lowerInclusive) {
        case (true, true):
            break  // every key is at least the empty string
        case (true, false):
            // A literal, because Foundation may hand GRDB a nil pointer for an empty Data, which SQLite binds
            // as NULL, and `key > NULL` matches nothing.
            sql += " AND key > x''"
        case (false, let inclusive):
            sql += inclusive ? " AND key >= ?" : " AND key > ?"
            arguments += [Data(range.lower)]
        }
        if let upper = range.upper {
            sql += " AND key < ?"
            arguments += [Data(upper)]
        }
    }

    /// Throws ``StoreError/sourceChanged`` unless the source object still holds the shared segments, which
    /// (holding references) cannot have been freed.
    static func requireSource(_ source: SharedSource, _ db: Database) throws {
        let key = keyData(source.key)
        let current: ObjectRecord?
        if let version = source.versionID, try versioning(source.bucket, db) != nil {
            current = try versionRecord(bucket: source.bucket, key: key, versionID: version, db)
        } else {
            current = try currentRecord(bucket: source.bucket, key: key, db)
        }
        guard let current else { throw StoreError.sourceChanged }
        let held = Set(current.segments.map(\.blobID))
        guard source.segments.allSatisfy({ held.contains($0.blobID) }) else { throw StoreError.sourceChanged }
    }

    /// The current record of a key, read inside the caller's transaction.
    static func currentRecord(bucket: String, key: Data, _ db: Database) throws -> ObjectRecord? {
        let row = try Row.fetchOne(
            db.cachedStatement(sql: currentRecordSQL),
            arguments: [bucket, key])
        return try row.map { try objectRecord($0, bucket: bucket) }
    }

    /// Adds one reference to each segment's blob.
    static func addReferences(to segments: [BlobSegment], _ db: Database) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO blob_refs (blob_id, ref_count) VALUES (?, 1)
                ON CONFLICT (blob_id) DO UPDATE SET ref_count = ref_count + 1
                """)
        for segment in segments {
            try statement.execute(arguments: [segment.blobID.rawValue])
        }
    }

    /// Removes one reference to each segment's blob, forgetting blobs no row refers to any more.
    /// - Returns: The blobs that lost their last reference.
    static func dropReferences(to segments: [BlobSegment], _ db: Database) throws -> [BlobID] {
        let decrement = try db.cachedStatement(
            sql: "UPDATE blob_refs SET ref_count = ref_count - 1 WHERE blob_id = ? AND ref_count > 1")
        let remove = try db.cachedStatement(sql: "DELETE FROM blob_refs WHERE blob_id = ? AND ref_count = 1")
        var freed: [BlobID] = []
        for segment in segments {
            try decrement.execute(arguments: [segment.blobID.rawValue])
            if db.changesCount == 0 {
                try remove.execute(arguments: [segment.blobID.rawValue])
                if db.changesCount > 0 { freed.append(segment.blobID) }
            }
        }
        return freed
    }
}
