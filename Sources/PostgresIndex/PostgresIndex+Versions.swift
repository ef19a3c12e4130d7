import Foundation
import NIOCore
import ObjectStore
import PostgresNIO

/// Versioning: every write path goes through ``storeCurrent(_:encoded:replacing:bucket:_:)`` and the delete
/// helpers here, which keep `objects` (the current object) and `versions` (the history) in step, and the blob
/// reference counts right: references are always added before any are dropped.
extension PostgresIndex: VersionIndex {
    public func setVersioning(_ state: VersioningState, bucket: String) async throws {
        try await writeSetting { session in
            if state == .suspended, try await Self.hasObjectLock(bucket, session) { throw StoreError.invalidBucketState }
            if try await Self.versioning(bucket, session) == nil {
                // The bucket's objects become its null versions, so the history starts complete.
                try await session.execute("""
                    INSERT INTO versions (bucket, key, size, etag, last_modified, metadata, checksum, segments, parts, version_id, seq, delete_marker)
                    SELECT bucket, key, size, etag, last_modified, metadata, checksum, segments, parts, 'null', nextval('version_seq'), false
                    FROM objects WHERE bucket = \(bucket)
                    """)
                // Each version row holds its own references, as in SQLite.
                let rows = try await session.rows("SELECT segments FROM objects WHERE bucket = \(bucket)")
                for row in rows {
                    try await Self.addReferences(to: CompactLists.decodeSegments(try row[0].decode(String.self)), session)
                }
                try await session.execute("UPDATE objects SET version_id = 'null' WHERE bucket = \(bucket)")
            }
            try await session.execute("UPDATE buckets SET versioning = \(state.rawValue) WHERE name = \(bucket)")
        }
    }

    public func objectVersion(bucket: String, key: String, versionID: String) async throws -> ObjectRecord? {
        try await read { session in
            guard try await Self.versioning(bucket, session) != nil else {
                return versionID == VersionID.null
                    ? try await Self.currentRecord(bucket: bucket, key: Self.keyBytes(key), session) : nil
            }
            return try await Self.versionRecord(bucket: bucket, key: Self.keyBytes(key), versionID: versionID, session)
        }
    }

    public func latestVersion(bucket: String, key: String) async throws -> ObjectRecord? {
        try await read { session in
            _ = try await Self.versioning(bucket, session)
            return try await Self.latestVersionRecord(bucket: bucket, key: Self.keyBytes(key), session)
        }
    }

    public func deleteVersion(bucket: String, key: String, versionID: String, bypassGovernance: Bool) async throws -> IndexChange {
        try await writeCausingEvents { session, origin in
            let state = try await Self.versioning(bucket, session)
            let change = try await Self.deleteVersion(
                bucket: bucket, key: key, versionID: versionID, versioning: state, bypassGovernance: bypassGovernance, session)
            return (change, try await Self.recordEvents(of: change, origin: origin, session))
        }
    }

    public func versions(bucket: String, range: KeyRange, after marker: VersionMarker?, limit: Int) async throws -> [VersionEntry] {
        try await read { session in
            let state = try await Self.versioning(bucket, session)
            guard limit > 0 else { return [] }
            var query: PostgresQuery
            if state == nil {
                query = PostgresQuery(unsafeSQL: "SELECT \(Self.listingColumns), true AS is_latest FROM objects WHERE bucket = $1")
            } else {
                query = PostgresQuery(unsafeSQL: """
                    SELECT key, size, etag, last_modified, metadata, checksum, '' AS segments, NULL::text AS parts,
                        version_id, delete_marker,
                        seq = (SELECT max(seq) FROM versions AS newer WHERE newer.bucket = versions.bucket AND newer.key = versions.key) AS is_latest
                    FROM versions WHERE bucket = $1
                    """)
            }
            query.binds.append(bucket)
            if let marker {
                let markerKey = Self.keyBytes(marker.key)
                // A version ID carries its place, so the marker version need not exist any more.
                var seq: Int64? = nil
                if state != nil, let id = marker.versionID {
                    if let known = VersionID.sequence(of: id) {
                        seq = known
                    } else {
                        seq = try await session.value(Int64.self, """
                            SELECT seq FROM versions WHERE bucket = \(bucket) AND key = \(markerKey) AND version_id = \(id)
                            """)
                    }
                }
                if let seq {
                    query.append(" AND (key > ", markerKey)
                    query.append(" OR (key = ", markerKey)
                    query.append(" AND seq < ", seq)
                    query.sql += "))"
                } else {
                    query.append(" AND key > ", markerKey)
                }
            }
            Self.appendKeyRange(range, to: &query)
            query.sql += state == nil ? " ORDER BY key" : " ORDER BY key, seq DESC"
            query.append(" LIMIT ", limit)
            return try await session.rows(query).map { row in
                var record = try Self.objectRecord(row, bucket: bucket)
                if state == nil { record.versionID = nil }
                return VersionEntry(record: record, isLatest: try row["is_latest"].decode(Bool.self))
            }
        }
    }

    // MARK: Write paths, inside the caller's transaction

    /// The bucket's versioning state; throws ``StoreError/noSuchBucket``.
    static func versioning(_ bucket: String, _ session: Session) async throws -> VersioningState? {
        guard let row = try await session.row("SELECT versioning FROM buckets WHERE name = \(bucket)") else {
            throw StoreError.noSuchBucket
        }
        return try row[0].decode(String?.self).flatMap(VersioningState.init(rawValue:))
    }

    static func hasObjectLock(_ bucket: String, _ session: Session) async throws -> Bool {
        try await session.value(Bool.self, "SELECT object_lock IS NOT NULL FROM buckets WHERE name = \(bucket)") ?? false
    }

    /// Makes `record` the current object of its key: a new version (Enabled), the new null version (Suspended), or
    /// simply the object (never versioned). Returns the record as stored and the blobs freed.
    static func storeCurrent(
        _ record: ObjectRecord, encoded: EncodedRecord, replacing current: ObjectRecord?, bucket traits: BucketTraits,
        _ session: Session
    ) async throws -> (ObjectRecord, [BlobID]) {
        let state = traits.versioning
        var stored = record
        stored.isDeleteMarker = false
        stored.versionID = state == nil ? nil : VersionID.null
        var dropped: [BlobSegment] = current?.segments ?? []
        if state == .suspended {
            try await lockCurrentRow(bucket: record.bucket, key: encoded.key, session)
            dropped += try await removeVersionRow(
                bucket: record.bucket, key: encoded.key, versionID: VersionID.null, bypassGovernance: false, session)?.segments ?? []
        }
        if state != nil { try await insertVersion(&stored, assignID: state == .enabled, session) }
        let row = stored.versionID == record.versionID ? encoded : try EncodedRecord(stored)
        let freed = try await upsert(row, adding: stored.segments, dropping: dropped, session)
        if traits.hasLifecycle { try await queueForLifecycle(bucket: record.bucket, key: encoded.key, session) }
        return (stored, freed)
    }

    /// Deletes the current object; in a versioned bucket, stores a delete marker on top.
    static func deleteCurrent(bucket: String, key: String, versioning state: VersioningState?, _ session: Session) async throws -> IndexChange {
        let keyBytes = keyBytes(key)
        let current = try await currentRecord(bucket: bucket, key: keyBytes, session)
        var dropped = current?.segments ?? []
        if current != nil {
            try await session.execute("DELETE FROM objects WHERE bucket = \(bucket) AND key = \(keyBytes)")
        }
        var marker: ObjectRecord? = nil
        if let state {
            if state == .suspended {
                dropped += try await removeVersionRow(
                    bucket: bucket, key: keyBytes, versionID: VersionID.null, bypassGovernance: false, session)?.segments ?? []
            }
            var made = ObjectRecord(
                bucket: bucket, key: key, size: 0, etag: "", lastModified: Date(), metadata: ObjectMetadata(),
                checksum: nil, segments: [], versionID: VersionID.null, isDeleteMarker: true)
            try await insertVersion(&made, assignID: state == .enabled, session)
            marker = made
        }
        try await queueForLifecycle(bucket: bucket, key: keyBytes, session)
        return IndexChange(replaced: current, freedBlobs: try await dropReferences(to: dropped, session), stored: marker)
    }

    /// Removes one version; if it was the newest, the next newest becomes current (or none, if that is a marker).
    /// Throws ``StoreError/objectLocked``, having changed nothing, if object lock protects the version.
    static func deleteVersion(
        bucket: String, key: String, versionID: String, versioning state: VersioningState?, bypassGovernance: Bool,
        _ session: Session
    ) async throws -> IndexChange {
        let keyBytes = keyBytes(key)
        guard state != nil else {
            // A bucket never versioned has only null versions: its objects.
            guard versionID == VersionID.null else { return IndexChange() }
            return try await deleteCurrent(bucket: bucket, key: key, versioning: nil, session)
        }
        try await lockCurrentRow(bucket: bucket, key: keyBytes, session)
        let latest = try await latestVersionRecord(bucket: bucket, key: keyBytes, session)
        guard let removed = try await removeVersionRow(
            bucket: bucket, key: keyBytes, versionID: versionID, bypassGovernance: bypassGovernance, session)
        else { return IndexChange() }
        var dropped = removed.segments
        if latest?.versionName == removed.versionName {
            if let current = try await currentRecord(bucket: bucket, key: keyBytes, session) {
                try await session.execute("DELETE FROM objects WHERE bucket = \(bucket) AND key = \(keyBytes)")
                dropped += current.segments
            }
            if let next = try await latestVersionRecord(bucket: bucket, key: keyBytes, session), !next.isDeleteMarker {
                _ = try await upsert(EncodedRecord(next), adding: next.segments, dropping: [], session)
            }
        }
        try await queueForLifecycle(bucket: bucket, key: keyBytes, session)
        return IndexChange(replaced: removed, freedBlobs: try await dropReferences(to: dropped, session))
    }

    /// Locks the key's current row, if it has one. Every write that changes both rows of a key changes `objects` before
    /// `versions` (a metadata change, a delete), so the paths that would otherwise touch a version row first (removing a
    /// version, replacing a Suspended bucket's null version) take this lock first: two nodes writing one key then wait
    /// for each other instead of deadlocking, which PostgreSQL breaks only after `deadlock_timeout` (1 s by default).
    static func lockCurrentRow(bucket: String, key: ByteBuffer, _ session: Session) async throws {
        try await session.execute("SELECT 1 FROM objects WHERE bucket = \(bucket) AND key = \(key) FOR UPDATE")
    }

    /// Appends `record` as the newest version of its key, counting its references; with `assignID`, gives it a new
    /// version ID that records its place.
    static func insertVersion(_ record: inout ObjectRecord, assignID: Bool, _ session: Session) async throws {
        // A sequence stands outside serializability: a delete marker on a key with no current object touches no row a
        // racing PUT of the key touches, so both would commit, and a PUT that drew the lower number would stay the
        // current object under a newer marker. Reading the key's newest version makes any two writes that add a
        // version to one key conflict (40001); the one run again draws a later number, so `seq` follows commit order.
        _ = try await session.row("""
            SELECT seq FROM versions WHERE bucket = \(record.bucket) AND key = \(keyBytes(record.key)) ORDER BY seq DESC LIMIT 1
            """)
        guard let seq = try await session.value(Int64.self, "SELECT nextval('version_seq')") else {
            throw StoreError.ioFailure("index: no version sequence number")
        }
        if assignID { record.versionID = VersionID.make(sequence: seq) }
        try await EncodedRecord(record).insertVersion(seq: seq, deleteMarker: record.isDeleteMarker, session)
        try await addReferences(to: record.segments, session)
    }

    /// Deletes a version's row and returns it; the caller drops its references. Object lock is enforced here, in
    /// the same transaction as the removal: throws ``StoreError/objectLocked`` if the version is protected.
    private static func removeVersionRow(
        bucket: String, key: ByteBuffer, versionID: String, bypassGovernance: Bool, _ session: Session
    ) async throws -> ObjectRecord? {
        guard let removed = try await versionRecord(bucket: bucket, key: key, versionID: versionID, session) else { return nil }
        if removed.metadata.isLocked(at: Date(), bypassGovernance: bypassGovernance) { throw StoreError.objectLocked }
        try await session.execute("DELETE FROM versions WHERE bucket = \(bucket) AND key = \(key) AND version_id = \(versionID)")
        return removed
    }

    static func versionRecord(bucket: String, key: ByteBuffer, versionID: String, _ session: Session) async throws -> ObjectRecord? {
        try await session.row("""
            SELECT \(unescaped: versionColumns) FROM versions WHERE bucket = \(bucket) AND key = \(key) AND version_id = \(versionID)
            """).map { try objectRecord($0, bucket: bucket) }
    }

    static func latestVersionRecord(bucket: String, key: ByteBuffer, _ session: Session) async throws -> ObjectRecord? {
        try await session.row("""
            SELECT \(unescaped: versionColumns) FROM versions WHERE bucket = \(bucket) AND key = \(key) ORDER BY seq DESC LIMIT 1
            """).map { try objectRecord($0, bucket: bucket) }
    }
}
