import Foundation
import GRDB
import ObjectStore

/// An error `assemble` threw inside ``SQLiteIndex/completeUpload(bucket:key:uploadID:condition:fingerprint:assemble:)``,
/// carried through the transaction unchanged rather than reported as a database failure.
struct AssemblyRejection: Error {
    let underlying: any Error
}

extension SQLiteIndex: MultipartIndex {
    public func createUpload(_ upload: MultipartUpload) async throws {
        let metadata = try Self.json(upload.metadata)
        try await write { db in
            try Self.requireBucket(upload.bucket, db)
            try db.execute(
                sql: """
                    INSERT INTO uploads (upload_id, bucket, key, initiated, metadata, checksum_algorithm, checksum_type)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    upload.uploadID, upload.bucket, Self.keyData(upload.key), Self.milliseconds(upload.initiated),
                    metadata, upload.checksumAlgorithm, upload.checksumType,
                ])
        }
    }

    public func upload(bucket: String, key: String, uploadID: String) async throws -> MultipartUpload? {
        try await read { db in try Self.upload(bucket: bucket, key: key, uploadID: uploadID, db) }
    }

    public func putPart(
        _ part: UploadedPart, bucket: String, key: String, uploadID: String, source: SharedSource?
    ) async throws -> IndexChange {
        let segments = try Self.encodeSegments(part.segments)
        let checksum = try part.checksum.map { try Self.json($0) }
        return try await write { db in
            guard try Self.upload(bucket: bucket, key: key, uploadID: uploadID, db) != nil else { throw StoreError.noSuchUpload }
            if let source { try Self.requireSource(source, db) }
            let replaced = try String.fetchOne(
                db.cachedStatement(sql: "SELECT segments FROM parts WHERE upload_id = ? AND part_number = ?"),
                arguments: [uploadID, part.number])
            try db.cachedStatement(
                sql: """
                    INSERT INTO parts (upload_id, part_number, size, etag, last_modified, checksum, segments)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (upload_id, part_number) DO UPDATE SET
                        size = excluded.size, etag = excluded.etag, last_modified = excluded.last_modified,
                        checksum = excluded.checksum, segments = excluded.segments
                    """
            ).execute(arguments: [
                uploadID, part.number, part.size, part.etag, Self.milliseconds(part.lastModified), checksum, segments,
            ])
            try Self.addReferences(to: part.segments, db)
            let freed = try replaced.map { try Self.dropReferences(to: Self.decodeSegments($0), db) } ?? []
            return IndexChange(freedBlobs: freed)
        }
    }

    public func parts(bucket: String, key: String, uploadID: String, after: Int, limit: Int) async throws -> [UploadedPart] {
        try await read { db in
            guard try Self.upload(bucket: bucket, key: key, uploadID: uploadID, db) != nil else { throw StoreError.noSuchUpload }
            return try Self.parts(uploadID: uploadID, after: after, limit: limit, db)
        }
    }

    public func completeUpload(
        bucket: String, key: String, uploadID: String, condition: WriteCondition, fingerprint: String,
        assemble: @escaping @Sendable (MultipartUpload, [UploadedPart]) throws -> ObjectRecord
    ) async throws -> (ObjectRecord, IndexChange) {
        try await writeCausingEvents { db, origin in
            guard let upload = try Self.upload(bucket: bucket, key: key, uploadID: uploadID, db) else {
                throw StoreError.noSuchUpload
            }
            let parts = try Self.parts(uploadID: uploadID, after: 0, limit: Int.max, db)
            let record: ObjectRecord
            do { record = try assemble(upload, parts) } catch { throw AssemblyRejection(underlying: error) }
            let state = try Self.versioning(bucket, db)
            let current = try Self.currentRecord(bucket: bucket, key: Self.keyData(key), db)
            try Self.check(condition, current: current)
            // The object's references first, then the parts': blobs moving from parts into the object never
            // touch zero; parts left out of the object are freed.
            let (stored, replacedFreed) = try Self.storeCurrent(record, replacing: current, versioning: state, db)
            let freed = try Self.removeUpload(uploadID, parts: parts, db) + replacedFreed
            try Self.keepReceipt(
                CompletedUpload(
                    uploadID: uploadID, bucket: bucket, key: key, fingerprint: fingerprint, etag: stored.etag,
                    checksum: stored.checksum, versionID: stored.versionID, completed: Date()),
                db)
            let change = IndexChange(replaced: current, freedBlobs: freed, stored: stored)
            var completion = origin ?? ChangeOrigin(requestID: "", principalID: "", sourceIP: "")
            completion.creation = .completeMultipartUpload
            return ((stored, change), try Self.recordEvents(of: change, origin: completion, db))
        }
    }

    public func completedUpload(bucket: String, key: String, uploadID: String) async throws -> CompletedUpload? {
        try await read { db in
            guard let row = try Row.fetchOne(
                db.cachedStatement(sql: """
                    SELECT fingerprint, etag, checksum, version_id, completed_at FROM completed_uploads
                    WHERE upload_id = ? AND bucket = ? AND key = ? AND completed_at >= ?
                    """),
                arguments: [uploadID, bucket, Self.keyData(key), Self.milliseconds(Date() - CompletedUpload.retention)])
            else { return nil }
            let checksum: String? = row["checksum"]
            return CompletedUpload(
                uploadID: uploadID, bucket: bucket, key: key, fingerprint: row["fingerprint"], etag: row["etag"],
                checksum: try checksum.map { try JSONDecoder().decode(StoredChecksum.self, from: Data($0.utf8)) },
                versionID: row["version_id"], completed: Self.date(milliseconds: row["completed_at"]))
        }
    }

    /// Records a completion and drops receipts past their retention, so the table holds about a day of them.
    private static func keepReceipt(_ receipt: CompletedUpload, _ db: Database) throws {
        try db.execute(
            sql: "DELETE FROM completed_uploads WHERE completed_at < ?",
            arguments: [milliseconds(receipt.completed - CompletedUpload.retention)])
        let checksum = try receipt.checksum.map { try json($0) }
        try db.execute(
            sql: """
                INSERT OR REPLACE INTO completed_uploads
                    (upload_id, bucket, key, fingerprint, etag, checksum, version_id, completed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                receipt.uploadID, receipt.bucket, keyData(receipt.key), receipt.fingerprint, receipt.etag, checksum,
                receipt.versionID, milliseconds(receipt.completed),
            ])
    }

    public func abortUpload(bucket: String, key: String, uploadID: String) async throws -> IndexChange {
        try await write { db in
            guard try Self.upload(bucket: bucket, key: key, uploadID: uploadID, db) != nil else { throw StoreError.noSuchUpload }
            return IndexChange(freedBlobs: try Self.removeUpload(uploadID, db))
        }
    }

    public func uploads(bucket: String, range: KeyRange, after marker: UploadMarker?, limit: Int) async throws -> [MultipartUpload] {
        try await read { db in
            try Self.requireBucket(bucket, db)
            guard limit > 0 else { return [] }
            var sql = "SELECT \(Self.uploadColumns) FROM uploads WHERE bucket = ?"
            var arguments: StatementArguments = [bucket]
            // Row values let SQLite seek in uploads_by_key to the first upload after the marker.
            // The marker upload may be gone (aborted between pages); IDs still order the rest.
            if let marker {
                let markerKey = Self.keyData(marker.key)
                if let id = marker.uploadID {
                    sql += " AND (key, upload_id) > (?, ?)"
                    arguments += [markerKey, id]
                } else {
                    sql += " AND key > ?"
                    arguments += [markerKey]
                }
            }
            Self.keyRangeConditions(range, sql: &sql, arguments: &arguments)
            sql += " ORDER BY key, upload_id LIMIT ?"
            arguments += [limit]
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.multipartUpload)
        }
    }

    // MARK: Rows

    static let uploadColumns = "upload_id, bucket, key, initiated, metadata, checksum_algorithm, checksum_type"

    static func upload(bucket: String, key: String, uploadID: String, _ db: Database) throws -> MultipartUpload? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT \(uploadColumns) FROM uploads WHERE upload_id = ? AND bucket = ? AND key = ?"),
            arguments: [uploadID, bucket, keyData(key)]
        ).map(multipartUpload)
    }

    static func multipartUpload(_ row: Row) throws -> MultipartUpload {
        let keyBytes: Data = row["key"]
        return MultipartUpload(
            uploadID: row["upload_id"], bucket: row["bucket"], key: String(decoding: keyBytes, as: UTF8.self),
            initiated: date(milliseconds: row["initiated"]),
            metadata: try JSONDecoder().decode(ObjectMetadata.self, from: Data((row["metadata"] as String).utf8)),
            checksumAlgorithm: row["checksum_algorithm"], checksumType: row["checksum_type"])
    }

    private static func parts(uploadID: String, after: Int, limit: Int, _ db: Database) throws -> [UploadedPart] {
        let decoder = JSONDecoder()
        return try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT part_number, size, etag, last_modified, checksum, segments FROM parts
                    WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?
                    """),
            arguments: [uploadID, after, Int64(clamping: limit)]
        ).map { row in
            let checksum: String? = row["checksum"]
            return UploadedPart(
                number: row["part_number"], size: row["size"], etag: row["etag"],
                lastModified: date(milliseconds: row["last_modified"]),
                checksum: try checksum.map { try decoder.decode(StoredChecksum.self, from: Data($0.utf8)) },
                segments: try decodeSegments(row["segments"]))
        }
    }

    /// Deletes an upload and its parts, dropping the parts' references. Returns the blobs that freed.
    static func removeUpload(_ uploadID: String, parts known: [UploadedPart]? = nil, _ db: Database) throws -> [BlobID] {
        let parts = try known ?? parts(uploadID: uploadID, after: 0, limit: Int.max, db)
        var freed: [BlobID] = []
        for part in parts { freed += try dropReferences(to: part.segments, db) }
        try db.execute(sql: "DELETE FROM parts WHERE upload_id = ?", arguments: [uploadID])
        try db.execute(sql: "DELETE FROM uploads WHERE upload_id = ?", arguments: [uploadID])
        return freed
    }
}
