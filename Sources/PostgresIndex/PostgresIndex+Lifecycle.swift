import Foundation
import NIOCore
import ObjectStore
import PostgresNIO

extension PostgresIndex: LifecycleIndex {
    public func dueLifecycleEntries(before date: Date, limit: Int) async throws -> [LifecycleEntry] {
        try await autocommit { session in
            try await session.rows("""
                SELECT due_at, bucket, key FROM lifecycle_due WHERE due_at <= \(IndexColumns.milliseconds(date))
                ORDER BY due_at LIMIT \(limit)
                """
            ).map { row in
                LifecycleEntry(
                    bucket: try row["bucket"].decode(String.self), key: try Self.key(row["key"]),
                    due: IndexColumns.date(milliseconds: try row["due_at"].decode(Int64.self)))
            }
        }
    }

    public func finishLifecycleEntry(_ entry: LifecycleEntry, next: Date?) async throws {
        let key = Self.keyBytes(entry.key)
        try await write { session in
            try await session.execute("""
                DELETE FROM lifecycle_due WHERE due_at = \(IndexColumns.milliseconds(entry.due)) AND bucket = \(entry.bucket) AND key = \(key)
                """)
            if let next {
                try await session.execute("""
                    INSERT INTO lifecycle_due (due_at, bucket, key) VALUES (\(IndexColumns.milliseconds(next)), \(entry.bucket), \(key))
                    ON CONFLICT DO NOTHING
                    """)
            }
        }
    }

    public func history(bucket: String, key: String) async throws -> (versioned: Bool, versions: [ObjectRecord]) {
        let keyBytes = Self.keyBytes(key)
        let (versioned, versions) = try await read { session -> (Bool, [ObjectRecord]) in
            guard try await Self.versioning(bucket, session) != nil else {
                return (false, try await Self.currentRecord(bucket: bucket, key: keyBytes, session).map { [$0] } ?? [])
            }
            let versions = try await session.rows("""
                SELECT \(unescaped: Self.versionColumns) FROM versions WHERE bucket = \(bucket) AND key = \(keyBytes) ORDER BY seq DESC
                """).map { try Self.objectRecord($0, bucket: bucket) }
            return (true, versions)
        }
        return (versioned, versions)
    }

    public func expireCurrent(bucket: String, key: String, expected: ObjectRecord) async throws -> IndexChange {
        try await writeCausingEvents { session, origin in
            let state = try await Self.versioning(bucket, session)
            guard let current = try await Self.currentRecord(bucket: bucket, key: Self.keyBytes(key), session),
                  current.etag == expected.etag, current.lastModified == expected.lastModified,
                  current.versionName == expected.versionName
            else { return (IndexChange(), false) }
            let change = try await Self.deleteCurrent(bucket: bucket, key: key, versioning: state, session)
            return (change, try await Self.recordEvents(of: change, origin: origin ?? .lifecycle, session))
        }
    }

    public func uploads(bucket: String, initiatedBefore date: Date, limit: Int) async throws -> [MultipartUpload] {
        try await autocommit { session in
            try await session.rows("""
                SELECT \(unescaped: Self.uploadColumns) FROM uploads
                WHERE bucket = \(bucket) AND initiated < \(IndexColumns.milliseconds(date)) ORDER BY initiated LIMIT \(limit)
                """).map(Self.multipartUpload)
        }
    }

    public func bucketsWithLifecycle() async throws -> [(bucket: String, configuration: LifecycleConfiguration)] {
        let rows = try await autocommit { session in
            try await session.rows("SELECT name, lifecycle FROM buckets WHERE lifecycle IS NOT NULL ORDER BY name")
                .map { (try $0["name"].decode(String.self), try $0["lifecycle"].decode(String.self)) }
        }
        return try rows.map { ($0.0, try IndexColumns.decode(LifecycleConfiguration.self, json: $0.1)) }
    }

    /// Queues a key for the lifecycle service now, if its bucket has a lifecycle configuration: one statement, run
    /// by every write to a key.
    static func queueForLifecycle(bucket: String, key: ByteBuffer, _ session: Session) async throws {
        try await session.execute("""
            INSERT INTO lifecycle_due (due_at, bucket, key)
            SELECT \(IndexColumns.milliseconds(Date())), name, \(key) FROM buckets WHERE name = \(bucket) AND lifecycle IS NOT NULL
            ON CONFLICT DO NOTHING
            """)
    }

    /// Queues every key of a bucket, when its rules change.
    static func queueBucketForLifecycle(_ bucket: String, _ session: Session) async throws {
        let now = IndexColumns.milliseconds(Date())
        try await session.execute("""
            INSERT INTO lifecycle_due (due_at, bucket, key) SELECT \(now), bucket, key FROM objects WHERE bucket = \(bucket)
            ON CONFLICT DO NOTHING
            """)
        try await session.execute("""
            INSERT INTO lifecycle_due (due_at, bucket, key) SELECT DISTINCT \(now)::bigint, bucket, key FROM versions WHERE bucket = \(bucket)
            ON CONFLICT DO NOTHING
            """)
    }
}
