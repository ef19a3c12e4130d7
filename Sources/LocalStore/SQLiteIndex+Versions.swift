import Foundation
import GRDB
import ObjectStore

/// Versioning: every write path goes through ``storeCurrent(_:replacing:versioning:_:)`` and the delete
/// helpers here, which keep `objects` (the current object) and `versions` (the history) in step, and keep the
/// blob reference counts right: references are always added before any are dropped, so a blob shared by the
/// old and new rows never touches zero.
extension SQLiteIndex: VersionIndex {
    public func setVersioning(_ state: VersioningState, bucket: String) async throws {
        try await write { db in
            if state == .suspended, try Self.hasObjectLock(bucket, db) { throw StoreError.invalidBucketState }
            if try Self.versioning(bucket, db) == nil {
                // The bucket's objects become its null versions, so the history starts complete.
                let rows = try Row.fetchCursor(
                    db, sql: "SELECT \(Self.objectColumns(prefix: "")) FROM objects WHERE bucket = ?", arguments: [bucket])
                while let row = try rows.next() {
                    var record = try Self.objectRecord(row, bucket: bucket)
                    record.versionID = VersionID.null
                    try Self.insertVersion(&record, assignID: false, db)
                }
                try db.execute(sql: "UPDATE objects SET version_id = 'null' WHERE bucket = ?", arguments: [bucket])
            }
            try db.execute(sql: "UPDATE buckets SET versioning = ? WHERE name = ?", arguments: [state.rawValue, bucket])
        }
    }

    public func objectVersion(bucket: String, key: String, versionID: String) async throws -> ObjectRecord? {
        try await read { db in
            guard try Self.versioning(bucket, db) != nil else {
                return versionID == VersionID.null ? try Self.currentRecord(bucket: bucket, key: Self.keyData(key), db) : nil
            }
            return try Self.versionRecord(bucket: bucket, key: Self.keyData(key), versionID: versionID, db)
        }
    }

    public func latestVersion(bucket: String, key: String) async throws -> ObjectRecord? {
        try await read { db in
            _ = try Self.versioning(bucket, db)
            return try Self.latestVersionRecord(bucket: bucket, key: Self.keyData(key), db)
        }
    }

    public func deleteVersion(bucket: String, key: String, versionID: String, bypassGovernance: Bool) async throws -> IndexChange {
        try await writeCausingEvents { db, origin in
            let state = try Self.versioning(bucket, db)
            let change = try Self.deleteVersion(
                bucket: bucket, key: key, versionID: versionID, versioning: state, bypassGovernance: bypassGovernance, db)
            return (change, try Self.recordEvents(of: change, origin: origin, db))
        }
    }

    public func versions(bucket: String, range: KeyRange, after marker: VersionMarker?, limit: Int) async throws -> [VersionEntry] {
        try await read { db in
            let state = try Self.versioning(bucket, db)
            guard limit > 0 else { return [] }
            let table = state == nil ? "objects" : "versions"
            var sql = state == nil
                ? "SELECT \(Self.listingColumns), 1 AS is_latest FROM objects WHERE bucket = ?"
                : """
                    SELECT key, size, etag, last_modified, metadata, checksum, '' AS segments, NULL AS parts,
                        version_id, delete_marker,
                        seq = (SELECT MAX(seq) FROM versions AS newer WHERE newer.bucket = versions.bucket AND newer.key = versions.key) AS is_latest
                    FROM versions WHERE bucket = ?
                    """
            var arguments: StatementArguments = [bucket]
            if let marker {
                let markerKey = Self.keyData(marker.key)
                // A version ID carries its place, so the marker version need not exist any more.
                let seq = try state == nil ? nil : marker.versionID.flatMap { id in
                    try VersionID.sequence(of: id) ?? Int64.fetchOne(
                        db, sql: "SELECT seq FROM versions WHERE bucket = ? AND key = ? AND version_id = ?",
                        arguments: [bucket, markerKey, id])
                }
                if let seq {
                    sql += " AND (key > ? OR (key = ? AND seq < ?))"
                    arguments += [markerKey, markerKey, seq]
                } else {
                    sql += " AND key > ?"
                    arguments += [markerKey]
                }
            }
            Self.keyRangeConditions(range, sql: &sql, arguments: &arguments)
            sql += table == "objects" ? " ORDER BY key LIMIT ?" : " ORDER BY key, seq DESC LIMIT ?"
            arguments += [limit]
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                var record = try Self.objectRecord(row, bucket: bucket)
                if state == nil { record.versionID = nil }
                return VersionEntry(record: record, isLatest: (row["is_latest"] as Int64?) == 1)
            }
        }
    }

    // MARK: Write paths, inside the caller's transaction

    /// The bucket's versioning state; throws ``StoreError/noSuchBucket``.
    static func versioning(_ bucket: String, _ db: Database) throws -> VersioningState? {
        guard let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT versioning FROM buckets WHERE name = ?"), arguments: [bucket])
        else { throw StoreError.noSuchBucket }
        return (row["versioning"] as String?).flatMap(VersioningState.init(rawValue:))
    }

    static func hasObjectLock(_ bucket: String, _ db: Database) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT object_lock IS NOT NULL FROM buckets WHERE name = ?"), arguments: [bucket]) ?? false
    }

    /// Makes `record` the current object of its key: a new version (Enabled), the new null version
    /// (Suspended), or simply the object (never versioned). Returns the record as stored and the blobs freed.
    static func storeCurrent(
        _ record: ObjectRecord, replacing current: ObjectRecord?, versioning state: VersioningState?, _ db: Database
    ) throws -> (ObjectRecord, [BlobID]) {
        var stored = record
        stored.isDeleteMarker = false
        stored.versionID = state == nil ? nil : VersionID.null
        var dropped: [BlobSegment] = current?.segments ?? []
        if state == .suspended {
            dropped += try removeVersionRow(
                bucket: record.bucket, key: keyData(record.key), versionID: VersionID.null, bypassGovernance: false, db)?.segments ?? []
        }
        if state != nil { try insertVersion(&stored, assignID: state == .enabled, db) }
        try upsert(EncodedRecord(stored), db)
        try addReferences(to: stored.segments, db)
        try queueForLifecycle(bucket: record.bucket, key: keyData(record.key), db)
        return (stored, try dropReferences(to: dropped, db))
    }

    /// Deletes the current object; in a versioned bucket, stores a delete marker on top.
    static func deleteCurrent(bucket: String, key: String, versioning state: VersioningState?, _ db: Database) throws -> IndexChange {
        let keyData = keyData(key)
        let current = try currentRecord(bucket: bucket, key: keyData, db)
        var dropped = current?.segments ?? []
        if current != nil {
            try db.cachedStatement(sql: "DELETE FROM objects WHERE bucket = ? AND key = ?").execute(arguments: [bucket, keyData])
        }
        var marker: ObjectRecord? = nil
        if let state {
            if state == .suspended {
                dropped += try removeVersionRow(
                    bucket: bucket, key: keyData, versionID: VersionID.null, bypassGovernance: false, db)?.segments ?? []
            }
            var made = ObjectRecord(
                bucket: bucket, key: key, size: 0, etag: "", lastModified: Date(), metadata: ObjectMetadata(),
                checksum: nil, segments: [], versionID: VersionID.null, isDeleteMarker: true)
            try insertVersion(&made, assignID: state == .enabled, db)
            marker = made
        }
        try queueForLifecycle(bucket: bucket, key: keyData, db)
        return IndexChange(replaced: current, freedBlobs: try dropReferences(to: dropped, db), stored: marker)
    }

    /// Removes one version; if it was the newest, the next newest becomes current (or none, if that is a marker).
    /// Throws ``StoreError/objectLocked``, having changed nothing, if object lock protects the version.
    static func deleteVersion(
        bucket: String, key: String, versionID: String, versioning state: VersioningState?, bypassGovernance: Bool,
        _ db: Database
    ) throws -> IndexChange {
        let keyData = keyData(key)
        guard state != nil else {
            // A bucket never versioned has only null versions: its objects.
            guard versionID == VersionID.null else { return IndexChange() }
            return try deleteCurrent(bucket: bucket, key: key, versioning: nil, db)
        }
        let latest = try latestVersionRecord(bucket: bucket, key: keyData, db)
        guard let removed = try removeVersionRow(
            bucket: bucket, key: keyData, versionID: versionID, bypassGovernance: bypassGovernance, db)
        else { return IndexChange() }
        var dropped = removed.segments
        if latest?.versionName == removed.versionName {
            if let current = try currentRecord(bucket: bucket, key: keyData, db) {
                try db.cachedStatement(sql: "DELETE FROM objects WHERE bucket = ? AND key = ?").execute(arguments: [bucket, keyData])
                dropped += current.segments
            }
            if let next = try latestVersionRecord(bucket: bucket, key: keyData, db), !next.isDeleteMarker {
                try upsert(EncodedRecord(next), db)
                try addReferences(to: next.segments, db)
            }
        }
        try queueForLifecycle(bucket: bucket, key: keyData, db)
        return IndexChange(replaced: removed, freedBlobs: try dropReferences(to: dropped, db))
    }

    /// Appends `record` as the newest version of its key, counting its references; with `assignID`, gives it
    /// a new version ID that records its place.
    static func insertVersion(_ record: inout ObjectRecord, assignID: Bool, _ db: Database) throws {
        let seq = try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT COALESCE(MAX(seq), 0) + 1 FROM versions WHERE bucket = ? AND key = ?"),
            arguments: [record.bucket, keyData(record.key)]) ?? 1
        if assignID { record.versionID = VersionID.make(sequence: seq) }
        let encoded = try EncodedRecord(record)
        try db.cachedStatement(
            sql: """
                INSERT INTO versions (bucket, key, size, etag, last_modified, metadata, checksum, segments, parts,
                                      version_id, seq, delete_marker)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: encoded.versionArguments(seq: seq, deleteMarker: record.isDeleteMarker))
        try addReferences(to: record.segments, db)
    }

    /// Deletes a version's row and returns it; the caller drops its references. Every path that removes or
    /// replaces a version comes through here, so object lock is enforced in one place, in the same
    /// transaction as the removal: throws ``StoreError/objectLocked`` if the version is protected.
    private static func removeVersionRow(
        bucket: String, key: Data, versionID: String, bypassGovernance: Bool, _ db: Database
    ) throws -> ObjectRecord? {
        guard let removed = try versionRecord(bucket: bucket, key: key, versionID: versionID, db) else { return nil }
        if removed.metadata.isLocked(at: Date(), bypassGovernance: bypassGovernance) { throw StoreError.objectLocked }
        try db.cachedStatement(sql: "DELETE FROM versions WHERE bucket = ? AND key = ? AND version_id = ?")
            .execute(arguments: [bucket, key, versionID])
        return removed
    }

    static let versionColumns = "key, size, etag, last_modified, metadata, checksum, segments, parts, version_id, delete_marker"

    static func versionRecord(bucket: String, key: Data, versionID: String, _ db: Database) throws -> ObjectRecord? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT \(versionColumns) FROM versions WHERE bucket = ? AND key = ? AND version_id = ?"),
            arguments: [bucket, key, versionID]
        ).map { try objectRecord($0, bucket: bucket) }
    }

    static func latestVersionRecord(bucket: String, key: Data, _ db: Database) throws -> ObjectRecord? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT \(versionColumns) FROM versions WHERE bucket = ? AND key = ? ORDER BY seq DESC LIMIT 1"),
            arguments: [bucket, key]
        ).map { try objectRecord($0, bucket: bucket) }
    }
}

extension EncodedRecord {
    /// The values of a `versions` row: the object columns (version ID `null` for the null version), then seq
    /// and the marker flag.
    func versionArguments(seq: Int64, deleteMarker: Bool) -> StatementArguments {
        var row = Array(values.dropLast())
        row.append(versionID ?? VersionID.null)
        row += [seq, deleteMarker ? 1 : 0]
        return StatementArguments(row)
    }
}
