import Foundation
import NIOCore
import ObjectStore
import PostgresNIO

/// How an ``ObjectRecord`` maps to a row of `objects` or `versions`, and back.
extension PostgresIndex {
    /// The `objects` columns a record is read from, each named as itself even when taken from a join.
    static func objectColumns(prefix: String) -> String {
        ["key", "size", "etag", "last_modified", "metadata", "checksum", "segments", "parts", "version_id"]
            .map { "\(prefix)\($0) AS \($0)" }
            .joined(separator: ", ")
    }

    /// A listing's columns: a record without its segment and part lists.
    static let listingColumns = "key, size, etag, last_modified, metadata, checksum, '' AS segments, NULL::text AS parts, version_id"

    static let versionColumns = "key, size, etag, last_modified, metadata, checksum, segments, parts, version_id, delete_marker"

    /// A key as stored: its UTF-8 bytes, so comparisons are byte-wise.
    static func keyBytes(_ key: String) -> ByteBuffer {
        ByteBuffer(string: key)
    }

    static func key(_ cell: PostgresCell) throws -> String {
        let buffer = try cell.decode(ByteBuffer.self)
        return String(buffer: buffer)
    }

    /// Decodes a row selected with ``objectColumns(prefix:)`` or ``versionColumns``.
    static func objectRecord(_ row: PostgresRandomAccessRow, bucket: String) throws -> ObjectRecord {
        let checksum = try row["checksum"].decode(String?.self)
        let parts = try row["parts"].decode(String?.self)
        return ObjectRecord(
            bucket: bucket,
            key: try key(row["key"]),
            size: try row["size"].decode(Int64.self),
            etag: try row["etag"].decode(String.self),
            lastModified: IndexColumns.date(milliseconds: try row["last_modified"].decode(Int64.self)),
            metadata: try IndexColumns.decodeMetadata(try row["metadata"].decode(String.self)),
            checksum: try checksum.map(IndexColumns.decodeChecksum),
            segments: try CompactLists.decodeSegments(try row["segments"].decode(String.self)),
            parts: try parts.map(CompactLists.decodeParts) ?? [],
            versionID: try row["version_id"].decode(String?.self),
            isDeleteMarker: row.contains("delete_marker") ? try row["delete_marker"].decode(Bool.self) : false
        )
    }
}

/// A record as the values of a row, encoded before the transaction starts so that JSON encoding does not lengthen it.
struct EncodedRecord: Sendable {
    let bucket: String
    let key: ByteBuffer
    let size: Int64
    let etag: String
    let lastModified: Int64
    let metadata: String
    let checksum: String?
    let segments: String
    let parts: String?
    let versionID: String?

    init(_ record: ObjectRecord) throws {
        bucket = record.bucket
        key = PostgresIndex.keyBytes(record.key)
        size = record.size
        etag = record.etag
        lastModified = IndexColumns.milliseconds(record.lastModified)
        metadata = try IndexColumns.json(record.metadata)
        checksum = try record.checksum.map { try IndexColumns.json($0) }
        segments = CompactLists.encode(record.segments)
        parts = record.parts.isEmpty ? nil : CompactLists.encode(record.parts)
        versionID = record.versionID
    }

    /// Appends the record as a version of its key (version ID `null` for the null version).
    func insertVersion(seq: Int64, deleteMarker: Bool, _ session: PostgresIndex.Session) async throws {
        let id = versionID ?? VersionID.null
        try await session.execute("""
            INSERT INTO versions (bucket, key, size, etag, last_modified, metadata, checksum, segments, parts, version_id, seq, delete_marker)
            VALUES (\(bucket), \(key), \(size), \(etag), \(lastModified), \(metadata), \(checksum), \(segments), \(parts), \(id), \(seq), \(deleteMarker))
            """)
    }
}
