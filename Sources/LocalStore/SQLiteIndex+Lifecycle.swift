import Foundation
import GRDB
import ObjectStore

extension SQLiteIndex: LifecycleIndex {
    public func dueLifecycleEntries(before date: Date, limit: Int) async throws -> [LifecycleEntry] {
        try await read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT due_at, bucket, key FROM lifecycle_due WHERE due_at <= ? ORDER BY due_at LIMIT ?"),
                arguments: [Self.milliseconds(date), limit]
            ).map { row in
                let key: Data = row["key"]
                return LifecycleEntry(
                    bucket: row["bucket"], key: String(decoding: key, as: UTF8.self), due: Self.date(milliseconds: row["due_at"]))
            }
        }
    }

    public func finishLifecycleEntry(_ entry: LifecycleEntry, next: Date?) async throws {
        try await write { db in
            let key = Self.keyData(entry.key)
            try db.execute(
                sql: "DELETE FROM lifecycle_due WHERE due_at = ? AND bucket = ? AND key = ?",
                arguments: [Self.milliseconds(entry.due), entry.bucket, key])
            if let next {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO lifecycle_due (due_at, bucket, key) VALUES (?, ?, ?)",
                    arguments: [Self.milliseconds(next), entry.bucket, key])
            }
        }
    }

    public func history(bucket: String, key: String) async throws -> (versioned: Bool, versions: [ObjectRecord]) {
        try await read { db in
            let keyData = Self.keyData(key)
            guard try Self.versioning(bucket, db) != nil else {
                return (false, try Self.currentRecord(bucket: bucket, key: keyData, db).map { [$0] } ?? [])
            }
            let versions = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT \(Self.versionColumns) FROM versions WHERE bucket = ? AND key = ? ORDER BY seq DESC"),
                arguments: [bucket, keyData]
            ).map { try Self.objectRecord($0, bucket: bucket) }
            return (true, versions)
        }
    }

    public func expireCurrent(bucket: String, key: String, expected: ObjectRecord) async throws -> IndexChange {
        try await writeCausingEvents { db, origin in
            let state = try Self.versioning(bucket, db)
            guard let current = try Self.currentRecord(bucket: bucket, key: Self.keyData(key), db),
                  current.etag == expected.etag, current.lastModified == expected.lastModified,
                  current.versionName == expected.versionName
            else { return (IndexChange(), false) }
            let change = try Self.deleteCurrent(bucket: bucket, key: key, versioning: state, db)
            return (change, try Self.recordEvents(of: change, origin: origin ?? .lifecycle, db))
        }
    }

    public func uploads(bucket: String, initiatedBefore date: Date, limit: Int) async throws -> [MultipartUpload] {
        try await read { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: "SELECT \(Self.uploadColumns) FROM uploads WHERE bucket = ? AND initiated < ? ORDER BY initiated LIMIT ?"),
                arguments: [bucket, Self.milliseconds(date), limit]
            ).map(Self.multipartUpload)
        }
    }

    public func bucketsWithLifecycle() async throws -> [(bucket: String, configuration: LifecycleConfiguration)] {
        let rows = try await read { db in
            try Row.fetchAll(db, sql: "SELECT name, lifecycle FROM buckets WHERE lifecycle IS NOT NULL ORDER BY name")
                .map { (name: $0["name"] as String, json: $0["lifecycle"] as String) }
        }
        return try rows.map { ($0.name, try JSONDecoder().decode(LifecycleConfiguration.self, from: Data($0.json.utf8))) }
    }

    /// Queues a key for the lifecycle service now, if its bucket has a lifecycle configuration: one statement,
    /// run by every write to a key.
    static func queueForLifecycle(bucket: String, key: Data, _ db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT OR IGNORE INTO lifecycle_due (due_at, bucket, key)
                SELECT ?, name, ? FROM buckets WHERE name = ? AND lifecycle IS NOT NULL
                """
        ).execute(arguments: [milliseconds(Date()), key, bucket])
    }

    /// Queues every key of a bucket, when its rules change.
    static func queueBucketForLifecycle(_ bucket: String, _ db: Database) throws {
        let now = milliseconds(Date())
        try db.execute(
            sql: "INSERT OR IGNORE INTO lifecycle_due (due_at, bucket, key) SELECT ?, bucket, key FROM objects WHERE bucket = ?",
            arguments: [now, bucket])
        try db.execute(
            sql: "INSERT OR IGNORE INTO lifecycle_due (due_at, bucket, key) SELECT DISTINCT ?, bucket, key FROM versions WHERE bucket = ?",
            arguments: [now, bucket])
    }
}
