import Foundation
import NIOCore
import ObjectStore
import PostgresNIO

extension PostgresIndex: MultipartIndex {
    public func createUpload(_ upload: MultipartUpload) async throws {
        let metadata = try IndexColumns.json(upload.metadata)
        try await write { session in
            try await Self.requireBucket(upload.bucket, session)
            try await session.execute("""
                INSERT INTO uploads (upload_id, bucket, key, initiated, metadata, checksum_algorithm, checksum_type)
                VALUES (\(upload.uploadID), \(upload.bucket), \(Self.keyBytes(upload.key)), \(IndexColumns.milliseconds(upload.initiated)),
                        \(metadata), \(upload.checksumAlgorithm), \(upload.checksumType))
                """)
        }
    }

    public func upload(bucket: String, key: String, uploadID: String) async throws -> MultipartUpload? {
        try await autocommit { session in try await Self.upload(bucket: bucket, key: key, uploadID: uploadID, session) }
    }

    public func putPart(
        _ part: UploadedPart, bucket: String, key: String, uploadID: String, source: SharedSource?
    ) async throws -> IndexChange {
        let segments = CompactLists.encode(part.segments)
        let checksum = try part.checksum.map { try IndexColumns.json($0) }
        return try await write { session in
            // Reading the upload's row puts it in this transaction's read set: a Complete that removes it meanwhile
            // makes one of the two fail and run again, so a part is never added to an upload already completed.
            guard try await Self.upload(bucket: bucket, key: key, uploadID: uploadID, session) != nil else {
                throw StoreError.noSuchUpload
            }
            if let source { try await Self.requireSource(source, session) }
            let replaced = try await session.value(String.self, """
                SELECT segments FROM parts WHERE upload_id = \(uploadID) AND part_number = \(part.number)
                """)
            try await session.execute("""
                INSERT INTO parts (upload_id, part_number, size, etag, last_modified, checksum, segments)
                VALUES (\(uploadID), \(part.number), \(part.size), \(part.etag), \(IndexColumns.milliseconds(part.lastModified)),
                        \(checksum), \(segments))
                ON CONFLICT (upload_id, part_number) DO UPDATE SET
                    size = excluded.size, etag = excluded.etag, last_modified = excluded.last_modified,
                    checksum = excluded.checksum, segments = excluded.segments
                """)
            try await Self.addReferences(to: part.segments, session)
            var freed: [BlobID] = []
            if let replaced { freed = try await Self.dropReferences(to: CompactLists.decodeSegments(replaced), session) }
            return IndexChange(freedBlobs: freed)
        }
    }

    public func parts(bucket: String, key: String, uploadID: String, after: Int, limit: Int) async throws -> [UploadedPart] {
        try await read { session in
            guard try await Self.upload(bucket: bucket, key: key, uploadID: uploadID, session) != nil else {
                throw StoreError.noSuchUpload
            }
            return try await Self.parts(uploadID: uploadID, after: after, limit: limit, session)
        }
    }

    public func completeUpload(
        bucket: String, key: String, uploadID: String, condition: WriteCondition, fingerprint: String,
        assemble: @escaping @Sendable (MultipartUpload, [UploadedPart]) throws -> ObjectRecord
    ) async throws -> (ObjectRecord, IndexChange) {
        try await writeCausingEvents { session, origin in
            guard let upload = try await Self.upload(bucket: bucket, key: key, uploadID: uploadID, session) else {
                throw StoreError.noSuchUpload
            }
            let parts = try await Self.parts(uploadID: uploadID, after: 0, limit: Int(Int32.max), session)
            let record: ObjectRecord
            do { record = try assemble(upload, parts) } catch { throw AssemblyRejection(underlying: error) }
            let encoded = try EncodedRecord(record)
            let (traits, current) = try await Self.bucketTraitsAndCurrent(bucket: bucket, key: encoded.key, session)
            if !condition.holds(for: current) { throw StoreError.preconditionFailed }
            // The object's references first, then the parts': blobs moving from parts into the object never touch
            // zero; parts left out of the object are freed.
            let (stored, replacedFreed) = try await Self.storeCurrent(
                record, encoded: encoded, replacing: current, bucket: traits, session)
            let freed = try await Self.removeUpload(uploadID, parts: parts, session) + replacedFreed
            try await Self.keepReceipt(
                CompletedUpload(
                    uploadID: uploadID, bucket: bucket, key: key, fingerprint: fingerprint, etag: stored.etag,
                    checksum: stored.checksum, versionID: stored.versionID, completed: Date()),
                session)
            let change = IndexChange(replaced: current, freedBlobs: freed, stored: stored)
            var completion = origin ?? ChangeOrigin(requestID: "", principalID: "", sourceIP: "")
            completion.creation = .completeMultipartUpload
            return ((stored, change), try await Self.recordEvents(of: change, origin: completion, bucket: traits, session))
        }
    }

    public func completedUpload(bucket: String, key: String, uploadID: String) async throws -> CompletedUpload? {
        let since = IndexColumns.milliseconds(Date() - CompletedUpload.retention)
        return try await autocommit { session in
            guard let row = try await session.row("""
                SELECT fingerprint, etag, checksum, version_id, completed_at FROM completed_uploads
                WHERE upload_id = \(uploadID) AND bucket = \(bucket) AND key = \(Self.keyBytes(key)) AND completed_at >= \(since)
                """)
            else { return nil }
            return CompletedUpload(
                uploadID: uploadID, bucket: bucket, key: key, fingerprint: try row["fingerprint"].decode(String.self),
                etag: try row["etag"].decode(String.self),
                checksum: try row["checksum"].decode(String?.self).map { try IndexColumns.decode(StoredChecksum.self, json: $0) },
                versionID: try row["version_id"].decode(String?.self),
                completed: IndexColumns.date(milliseconds: try row["completed_at"].decode(Int64.self)))
        }
    }

    /// Records a completion and drops receipts past their retention, so the table holds about a day of them.
    private static func keepReceipt(_ receipt: CompletedUpload, _ session: Session) async throws {
        try await session.execute("""
            DELETE FROM completed_uploads WHERE completed_at < \(IndexColumns.milliseconds(receipt.completed - CompletedUpload.retention))
            """)
        let checksum = try receipt.checksum.map { try IndexColumns.json($0) }
        try await session.execute("""
            INSERT INTO completed_uploads (upload_id, bucket, key, fingerprint, etag, checksum, version_id, completed_at)
            VALUES (\(receipt.uploadID), \(receipt.bucket), \(keyBytes(receipt.key)), \(receipt.fingerprint), \(receipt.etag),
                    \(checksum), \(receipt.versionID), \(IndexColumns.milliseconds(receipt.completed)))
            ON CONFLICT (upload_id) DO UPDATE SET
                bucket = excluded.bucket, key = excluded.key, fingerprint = excluded.fingerprint, etag = excluded.etag,
                checksum = excluded.checksum, version_id = excluded.version_id, completed_at = excluded.completed_at
            """)
    }

    public func abortUpload(bucket: String, key: String, uploadID: String) async throws -> IndexChange {
        try await write { session in
            guard try await Self.upload(bucket: bucket, key: key, uploadID: uploadID, session) != nil else {
                throw StoreError.noSuchUpload
            }
            return IndexChange(freedBlobs: try await Self.removeUpload(uploadID, session))
        }
    }

    public func uploads(bucket: String, range: KeyRange, after marker: UploadMarker?, limit: Int) async throws -> [MultipartUpload] {
        try await read { session in
            try await Self.requireBucket(bucket, session)
            guard limit > 0 else { return [] }
            var query = PostgresQuery(unsafeSQL: "SELECT \(Self.uploadColumns) FROM uploads WHERE bucket = $1")
            query.binds.append(bucket)
            // The marker upload may be gone (aborted between pages); IDs still order the rest.
            if let marker {
                let markerKey = Self.keyBytes(marker.key)
                if let id = marker.uploadID {
                    query.append(" AND (key, upload_id) > (", markerKey)
                    query.append(", ", id)
                    query.sql += ")"
                } else {
                    query.append(" AND key > ", markerKey)
                }
            }
            Self.appendKeyRange(range, to: &query)
            query.sql += " ORDER BY key, upload_id"
            query.append(" LIMIT ", limit)
            return try await session.rows(query).map(Self.multipartUpload)
        }
    }

    // MARK: Rows

    static let uploadColumns = "upload_id, bucket, key, initiated, metadata, checksum_algorithm, checksum_type"

    static func upload(bucket: String, key: String, uploadID: String, _ session: Session) async throws -> MultipartUpload? {
        try await session.row("""
            SELECT \(unescaped: uploadColumns) FROM uploads WHERE upload_id = \(uploadID) AND bucket = \(bucket) AND key = \(keyBytes(key))
            """).map(multipartUpload)
    }

    static func multipartUpload(_ row: PostgresRandomAccessRow) throws -> MultipartUpload {
        MultipartUpload(
            uploadID: try row["upload_id"].decode(String.self), bucket: try row["bucket"].decode(String.self),
            key: try key(row["key"]),
            initiated: IndexColumns.date(milliseconds: try row["initiated"].decode(Int64.self)),
            metadata: try IndexColumns.decode(ObjectMetadata.self, json: try row["metadata"].decode(String.self)),
            checksumAlgorithm: try row["checksum_algorithm"].decode(String?.self),
            checksumType: try row["checksum_type"].decode(String?.self))
    }

    private static func parts(uploadID: String, after: Int, limit: Int, _ session: Session) async throws -> [UploadedPart] {
        try await session.rows("""
            SELECT part_number, size, etag, last_modified, checksum, segments FROM parts
            WHERE upload_id = \(uploadID) AND part_number > \(Int64(clamping: after)) ORDER BY part_number LIMIT \(Int64(clamping: limit))
            """
        ).map { row in
            UploadedPart(
                number: Int(try row["part_number"].decode(Int32.self)), size: try row["size"].decode(Int64.self),
                etag: try row["etag"].decode(String.self),
                lastModified: IndexColumns.date(milliseconds: try row["last_modified"].decode(Int64.self)),
                checksum: try row["checksum"].decode(String?.self).map { try IndexColumns.decode(StoredChecksum.self, json: $0) },
                segments: try CompactLists.decodeSegments(try row["segments"].decode(String.self)))
        }
    }

    /// Deletes an upload and its parts, dropping the parts' references. Returns the blobs that freed.
    static func removeUpload(_ uploadID: String, parts known: [UploadedPart]? = nil, _ session: Session) async throws -> [BlobID] {
        let parts = if let known { known } else { try await parts(uploadID: uploadID, after: 0, limit: Int(Int32.max), session) }
        var freed: [BlobID] = []
        for part in parts { freed += try await dropReferences(to: part.segments, session) }
        try await session.execute("DELETE FROM parts WHERE upload_id = \(uploadID)")
        try await session.execute("DELETE FROM uploads WHERE upload_id = \(uploadID)")
        return freed
    }
}
