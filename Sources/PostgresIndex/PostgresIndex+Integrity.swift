import Foundation
import NIOCore
import ObjectStore
import PostgresNIO

/// What `martlet admin check` walks in a cluster's index: the same items in the same order as
/// ``SQLiteIndex``'s walk, each page one keyset seek on a primary key. Safe while nodes run: every page is a
/// snapshot of its own, and a record a node changes between pages is simply seen as it was or as it is.
extension PostgresIndex: StoredItemIndex {
    public func storedItems(after cursor: StoredItemCursor?, limit: Int) async throws -> ([StoredItem], StoredItemCursor?) {
        try await read { session in
            var next = cursor ?? .objects(bucket: "", key: Data())
            if case .objects(let bucket, let key) = next {
                let rows = try await session.rows("""
                    SELECT objects.bucket AS bucket, \(unescaped: Self.objectColumns(prefix: "objects."))
                    FROM objects JOIN buckets ON buckets.name = objects.bucket
                    WHERE buckets.versioning IS NULL AND (objects.bucket, objects.key) > (\(bucket), \(ByteBuffer(bytes: key)))
                    ORDER BY objects.bucket, objects.key LIMIT \(limit)
                    """)
                let items = try rows.map { StoredItem(record: try Self.objectRecord($0, bucket: try $0["bucket"].decode(String.self))) }
                if let last = rows.last {
                    return (items, .objects(bucket: try last["bucket"].decode(String.self), key: try Self.keyData(last["key"])))
                }
                next = .versions(bucket: "", key: Data(), seq: Int64.min)
            }
            if case .versions(let bucket, let key, let seq) = next {
                let rows = try await session.rows("""
                    SELECT bucket, seq, \(unescaped: Self.versionColumns) FROM versions
                    WHERE NOT delete_marker AND (bucket, key, seq) > (\(bucket), \(ByteBuffer(bytes: key)), \(seq))
                    ORDER BY bucket, key, seq LIMIT \(limit)
                    """)
                let items = try rows.map { StoredItem(record: try Self.objectRecord($0, bucket: try $0["bucket"].decode(String.self))) }
                if let last = rows.last {
                    return (items, .versions(
                        bucket: try last["bucket"].decode(String.self), key: try Self.keyData(last["key"]),
                        seq: try last["seq"].decode(Int64.self)))
                }
                next = .parts(uploadID: "", number: 0)
            }
            if case .parts(let uploadID, let number) = next {
                let rows = try await session.rows("""
                    SELECT parts.upload_id AS upload_id, part_number, parts.size AS size, parts.etag AS etag,
                        parts.last_modified AS last_modified, parts.segments AS segments, uploads.bucket AS bucket,
                        uploads.key AS key, uploads.metadata AS metadata
                    FROM parts JOIN uploads ON uploads.upload_id = parts.upload_id
                    WHERE (parts.upload_id, part_number) > (\(uploadID), \(number)) ORDER BY parts.upload_id, part_number LIMIT \(limit)
                    """)
                let items = try rows.map { row in
                    let record = ObjectRecord(
                        bucket: try row["bucket"].decode(String.self), key: try Self.key(row["key"]),
                        size: try row["size"].decode(Int64.self), etag: try row["etag"].decode(String.self),
                        lastModified: IndexColumns.date(milliseconds: try row["last_modified"].decode(Int64.self)),
                        metadata: try IndexColumns.decodeMetadata(try row["metadata"].decode(String.self)),
                        checksum: nil, segments: try CompactLists.decodeSegments(try row["segments"].decode(String.self)))
                    return StoredItem(record: record, part: (try row["upload_id"].decode(String.self), try row["part_number"].decode(Int.self)))
                }
                if let last = rows.last {
                    return (items, .parts(uploadID: try last["upload_id"].decode(String.self), number: try last["part_number"].decode(Int.self)))
                }
            }
            return ([], nil)
        }
    }

    public func storedItemTotals() async throws -> (items: Int, bytes: Int64) {
        try await read { session in
            guard let row = try await session.row("""
                SELECT
                    (SELECT count(*) FROM objects JOIN buckets ON buckets.name = objects.bucket WHERE buckets.versioning IS NULL)
                    + (SELECT count(*) FROM versions WHERE NOT delete_marker) + (SELECT count(*) FROM parts),
                    ((SELECT coalesce(sum(objects.size), 0) FROM objects JOIN buckets ON buckets.name = objects.bucket WHERE buckets.versioning IS NULL)
                    + (SELECT coalesce(sum(size), 0) FROM versions WHERE NOT delete_marker) + (SELECT coalesce(sum(size), 0) FROM parts))::bigint
                """)
            else { return (0, 0) }
            return (Int(try row[0].decode(Int64.self)), try row[1].decode(Int64.self))
        }
    }

    static func keyData(_ cell: PostgresCell) throws -> Data {
        Data(try cell.decode(ByteBuffer.self).readableBytesView)
    }
}
