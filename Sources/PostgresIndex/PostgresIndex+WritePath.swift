import NIOCore
import ObjectStore
import PostgresNIO

/// The statements an object write cannot do without, folded so a PUT is four round trips (BEGIN, what the bucket and
/// the key hold now, the row with its blob references, COMMIT) rather than one per table it touches.
extension PostgresIndex {
    /// What a write needs to know of its bucket, read with the key's current row.
    struct BucketTraits: Sendable {
        var versioning: VersioningState?
        /// Whether the bucket has lifecycle rules, so a written key must be queued for them.
        var hasLifecycle: Bool
        /// The notification configuration (JSON), nil for none: a bucket without it records no events.
        var notification: String?
        var owner: String?
    }

    /// The bucket's traits and the key's current row, in one statement; throws ``StoreError/noSuchBucket``.
    static func bucketTraitsAndCurrent(
        bucket: String, key: ByteBuffer, _ session: Session
    ) async throws -> (BucketTraits, ObjectRecord?) {
        guard let row = try await session.row("""
            SELECT buckets.versioning, buckets.lifecycle IS NOT NULL AS has_lifecycle, buckets.notification, buckets.owner,
                   \(unescaped: objectColumns(prefix: "objects."))
            FROM buckets LEFT JOIN objects ON objects.bucket = buckets.name AND objects.key = \(key)
            WHERE buckets.name = \(bucket)
            """)
        else { throw StoreError.noSuchBucket }
        let current = try row["key"].decode(ByteBuffer?.self) == nil ? nil : try objectRecord(row, bucket: bucket)
        return (try traits(row), current)
    }

    private static func traits(_ row: PostgresRandomAccessRow) throws -> BucketTraits {
        BucketTraits(
            versioning: try row["versioning"].decode(String?.self).flatMap(VersioningState.init(rawValue:)),
            hasLifecycle: try row["has_lifecycle"].decode(Bool.self),
            notification: try row["notification"].decode(String?.self),
            owner: try row["owner"].decode(String?.self))
    }

    /// One reference more to each of `added`'s blobs and one fewer to each of `dropped`'s, in one statement (a blob in
    /// both is left as it was). Blobs that lose their last reference are forgotten and returned.
    static func moveReferences(adding added: [BlobSegment], dropping dropped: [BlobSegment], _ session: Session) async throws -> [BlobID] {
        if added.isEmpty && dropped.isEmpty { return [] }
        let (ids, deltas) = referenceDeltas(adding: added, dropping: dropped)
        return try await session.rows("""
            WITH delta AS (SELECT * FROM unnest(\(ids)::text[], \(deltas)::bigint[]) AS delta(id, n)),
            \(unescaped: referenceMoves)
            """).map { BlobID(try $0[0].decode(String.self)) }
    }

    /// Makes `row` the current row of its key and moves the blob references as ``moveReferences(adding:dropping:_:)``
    /// does, in one statement.
    static func upsert(
        _ row: EncodedRecord, adding added: [BlobSegment], dropping dropped: [BlobSegment], _ session: Session
    ) async throws -> [BlobID] {
        let (ids, deltas) = referenceDeltas(adding: added, dropping: dropped)
        return try await session.rows("""
            WITH upserted AS (
                INSERT INTO objects (bucket, key, size, etag, last_modified, metadata, checksum, segments, parts, version_id)
                VALUES (\(row.bucket), \(row.key), \(row.size), \(row.etag), \(row.lastModified), \(row.metadata),
                        \(row.checksum), \(row.segments), \(row.parts), \(row.versionID))
                ON CONFLICT (bucket, key) DO UPDATE SET
                    size = excluded.size, etag = excluded.etag, last_modified = excluded.last_modified,
                    metadata = excluded.metadata, checksum = excluded.checksum, segments = excluded.segments,
                    parts = excluded.parts, version_id = excluded.version_id
                RETURNING 1
            ),
            delta AS (SELECT * FROM unnest(\(ids)::text[], \(deltas)::bigint[]) AS delta(id, n)),
            \(unescaped: referenceMoves)
            """).map { BlobID(try $0[0].decode(String.self)) }
    }

    /// Net reference changes by blob, each blob once.
    private static func referenceDeltas(adding added: [BlobSegment], dropping dropped: [BlobSegment]) -> ([String], [Int64]) {
        var order: [String] = []
        var net: [String: Int64] = [:]
        for (segments, step) in [(added, Int64(1)), (dropped, Int64(-1))] {
            for segment in segments {
                let id = segment.blobID.rawValue
                if net[id] == nil { order.append(id) }
                net[id, default: 0] += step
            }
        }
        let ids = order.filter { net[$0] != 0 }
        return (ids, ids.map { net[$0] ?? 0 })
    }

    /// Applies the net changes of a `delta (id, n)` table: its three parts touch disjoint rows (a blob gains, loses
    /// some, or loses its last reference), so they may share one snapshot. Returns the freed blobs.
    private static let referenceMoves = """
        added AS (
            INSERT INTO blob_refs (blob_id, ref_count) SELECT id, n FROM delta WHERE n > 0
            ON CONFLICT (blob_id) DO UPDATE SET ref_count = blob_refs.ref_count + excluded.ref_count
            RETURNING 1
        ),
        lowered AS (
            UPDATE blob_refs SET ref_count = blob_refs.ref_count + delta.n FROM delta
            WHERE delta.n < 0 AND blob_refs.blob_id = delta.id AND blob_refs.ref_count > -delta.n
            RETURNING 1
        )
        DELETE FROM blob_refs USING delta
        WHERE delta.n < 0 AND blob_refs.blob_id = delta.id AND blob_refs.ref_count <= -delta.n
        RETURNING blob_refs.blob_id
        """
}
