import Foundation
import GRDB
import ObjectStore

extension SQLiteIndex: StoredItemIndex {
    public func storedItems(after cursor: StoredItemCursor?, limit: Int) async throws -> ([StoredItem], StoredItemCursor?) {
        try await read { db in
            var items: [StoredItem] = []
            var next = cursor
            if cursor == nil || { if case .objects = cursor! { return true } else { return false } }() {
                var (bucket, key) = ("", Data())
                if case .objects(let b, let k) = cursor { (bucket, key) = (b, k) }
                let rows = try Row.fetchAll(db, sql: """
                    SELECT objects.bucket AS bucket, \(Self.objectColumns(prefix: "objects."))
                    FROM objects JOIN buckets ON buckets.name = objects.bucket
                    WHERE buckets.versioning IS NULL AND (objects.bucket, objects.key) > (?, ?)
                    ORDER BY objects.bucket, objects.key LIMIT ?
                    """, arguments: [bucket, key, limit])
                for row in rows { items.append(StoredItem(record: try Self.objectRecord(row, bucket: row["bucket"]))) }
                if let last = rows.last { return (items, .objects(bucket: last["bucket"], key: last["key"])) }
                next = .versions(bucket: "", key: Data(), seq: Int64.min)
            }
            if case .versions(let bucket, let key, let seq) = next {
                let rows = try Row.fetchAll(db, sql: """
                    SELECT bucket, seq, \(Self.versionColumns) FROM versions
                    WHERE delete_marker = 0 AND (bucket, key, seq) > (?, ?, ?) ORDER BY bucket, key, seq LIMIT ?
                    """, arguments: [bucket, key, seq, limit])
                for row in rows { items.append(StoredItem(record: try Self.objectRecord(row, bucket: row["bucket"]))) }
                if let last = rows.last { return (items, .versions(bucket: last["bucket"], key: last["key"], seq: last["seq"])) }
                next = .parts(uploadID: "", number: 0)
            }
            if case .parts(let uploadID, let number) = next {
                let rows = try Row.fetchAll(db, sql: """
                    SELECT parts.upload_id AS upload_id, part_number, parts.size AS size, parts.etag AS etag,
                        parts.last_modified AS last_modified, parts.segments AS segments, uploads.bucket AS bucket,
                        uploads.key AS key, uploads.metadata AS metadata
                    FROM parts JOIN uploads ON uploads.upload_id = parts.upload_id
                    WHERE (parts.upload_id, part_number) > (?, ?) ORDER BY parts.upload_id, part_number LIMIT ?
                    """, arguments: [uploadID, number, limit])
                for row in rows {
                    let keyBytes: Data = row["key"]
                    let record = ObjectRecord(
                        bucket: row["bucket"], key: String(decoding: keyBytes, as: UTF8.self), size: row["size"], etag: row["etag"],
                        lastModified: Self.date(milliseconds: row["last_modified"]),
                        metadata: try JSONDecoder().decode(ObjectMetadata.self, from: Data((row["metadata"] as String).utf8)),
                        checksum: nil, segments: try Self.decodeSegments(row["segments"]))
                    items.append(StoredItem(record: record, part: (row["upload_id"], row["part_number"])))
                }
                if let last = rows.last { return (items, .parts(uploadID: last["upload_id"], number: last["part_number"])) }
            }
            return (items, nil)
        }
    }

    public func storedItemTotals() async throws -> (items: Int, bytes: Int64) {
        try await read { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT
                    (SELECT count(*) FROM objects JOIN buckets ON buckets.name = objects.bucket WHERE buckets.versioning IS NULL)
                    + (SELECT count(*) FROM versions WHERE delete_marker = 0) + (SELECT count(*) FROM parts) AS items,
                    (SELECT coalesce(sum(objects.size), 0) FROM objects JOIN buckets ON buckets.name = objects.bucket WHERE buckets.versioning IS NULL)
                    + (SELECT coalesce(sum(size), 0) FROM versions WHERE delete_marker = 0) + (SELECT coalesce(sum(size), 0) FROM parts) AS bytes
                """)!
            return (row["items"], row["bytes"])
        }
    }

    /// One server frees a blob's file as soon as no record refers to it (or, if a reader holds it, when the reader
    /// is done), so referenced is retained.
    public func isBlobRetained(_ id: BlobID) async throws -> Bool {
        try await isBlobReferenced(id)
    }
}
