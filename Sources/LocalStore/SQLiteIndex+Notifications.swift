import Foundation
import GRDB
import ObjectStore

/// The notification outbox, and per-bucket counters kept by triggers.
///
/// Events are rows of `event_outbox`, inserted by the same transaction as the change that causes them; the
/// delivery service reads them in `seq` order and deletes them once a target has taken them. `bucket_usage`
/// is kept by triggers on the tables it counts, so every path that writes them (now and later) keeps it right
/// without a line of Swift, and the metrics read it without scanning a bucket.
extension SQLiteIndex: NotificationIndex {
    static let notificationsSchema = """
        ALTER TABLE buckets ADD COLUMN notification TEXT;
        CREATE TABLE event_outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            target TEXT NOT NULL,
            event TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt INTEGER NOT NULL DEFAULT 0,
            failed INTEGER NOT NULL DEFAULT 0,
            last_error TEXT
        ) STRICT;
        CREATE INDEX event_outbox_by_state ON event_outbox (failed, seq);
        -- Objects and bytes of the current objects (what a bucket never versioned holds) and of all versions
        -- (delete markers not counted), and multipart uploads in progress.
        CREATE TABLE bucket_usage (
            bucket TEXT NOT NULL PRIMARY KEY,
            current_objects INTEGER NOT NULL DEFAULT 0,
            current_bytes INTEGER NOT NULL DEFAULT 0,
            version_objects INTEGER NOT NULL DEFAULT 0,
            version_bytes INTEGER NOT NULL DEFAULT 0,
            uploads INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID, STRICT;
        INSERT INTO bucket_usage (bucket, current_objects, current_bytes, version_objects, version_bytes, uploads)
        SELECT name,
            (SELECT count(*) FROM objects WHERE bucket = name),
            (SELECT coalesce(sum(size), 0) FROM objects WHERE bucket = name),
            (SELECT count(*) FROM versions WHERE bucket = name AND delete_marker = 0),
            (SELECT coalesce(sum(size), 0) FROM versions WHERE bucket = name AND delete_marker = 0),
            (SELECT count(*) FROM uploads WHERE bucket = name)
        FROM buckets;
        CREATE TRIGGER usage_bucket_created AFTER INSERT ON buckets BEGIN
            INSERT OR IGNORE INTO bucket_usage (bucket) VALUES (NEW.name);
        END;
        CREATE TRIGGER usage_bucket_deleted AFTER DELETE ON buckets BEGIN
            DELETE FROM bucket_usage WHERE bucket = OLD.name;
        END;
        CREATE TRIGGER usage_object_inserted AFTER INSERT ON objects BEGIN
            UPDATE bucket_usage SET current_objects = current_objects + 1, current_bytes = current_bytes + NEW.size
            WHERE bucket = NEW.bucket;
        END;
        CREATE TRIGGER usage_object_deleted AFTER DELETE ON objects BEGIN
            UPDATE bucket_usage SET current_objects = current_objects - 1, current_bytes = current_bytes - OLD.size
            WHERE bucket = OLD.bucket;
        END;
        CREATE TRIGGER usage_object_resized AFTER UPDATE OF size ON objects BEGIN
            UPDATE bucket_usage SET current_bytes = current_bytes - OLD.size + NEW.size WHERE bucket = NEW.bucket;
        END;
        CREATE TRIGGER usage_version_inserted AFTER INSERT ON versions WHEN NEW.delete_marker = 0 BEGIN
            UPDATE bucket_usage SET version_objects = version_objects + 1, version_bytes = version_bytes + NEW.size
            WHERE bucket = NEW.bucket;
        END;
        CREATE TRIGGER usage_version_deleted AFTER DELETE ON versions WHEN OLD.delete_marker = 0 BEGIN
            UPDATE bucket_usage SET version_objects = version_objects - 1, version_bytes = version_bytes - OLD.size
            WHERE bucket = OLD.bucket;
        END;
        CREATE TRIGGER usage_version_changed AFTER UPDATE OF size, delete_marker ON versions BEGIN
            UPDATE bucket_usage SET
                version_objects = version_objects - (OLD.delete_marker = 0) + (NEW.delete_marker = 0),
                version_bytes = version_bytes - (OLD.delete_marker = 0) * OLD.size + (NEW.delete_marker = 0) * NEW.size
            WHERE bucket = NEW.bucket;
        END;
        CREATE TRIGGER usage_upload_created AFTER INSERT ON uploads BEGIN
            UPDATE bucket_usage SET uploads = uploads + 1 WHERE bucket = NEW.bucket;
        END;
        CREATE TRIGGER usage_upload_removed AFTER DELETE ON uploads BEGIN
            UPDATE bucket_usage SET uploads = uploads - 1 WHERE bucket = OLD.bucket;
        END;
        """

    private static let notificationDocuments = DecodedDocumentCache<NotificationConfiguration>(capacity: 256, maxTextLength: 1 << 20)

    public func setNotification(
        _ configuration: NotificationConfiguration?, bucket: String, testEvents: [(targetARN: String, event: StoredEvent)]
    ) async throws {
        let encoded = try configuration.map { try Self.json($0) }
        let tests = try testEvents.map { ($0.targetARN, try Self.json($0.event)) }
        try await write { db in
            try Self.requireBucket(bucket, db)
            try db.execute(sql: "UPDATE buckets SET notification = ? WHERE name = ?", arguments: [encoded, bucket])
            for (target, event) in tests { try Self.insertEvent(target: target, json: event, db) }
        }
        if !tests.isEmpty { eventSignal.notify() }
    }

    public func notification(bucket: String) async throws -> NotificationConfiguration? {
        try await read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT notification FROM buckets WHERE name = ?", arguments: [bucket]) else {
                throw StoreError.noSuchBucket
            }
            return try (row["notification"] as String?).map(Self.notificationDocuments.decode)
        }
    }

    public func pendingEvents(limit: Int) async throws -> [OutboxEntry] {
        try await read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT \(Self.outboxColumns) FROM event_outbox WHERE failed = 0 ORDER BY seq LIMIT ?"),
                arguments: [limit]
            ).map(Self.outboxEntry)
        }
    }

    public func finishEvents(_ sequences: [Int64]) async throws {
        guard !sequences.isEmpty else { return }
        try await write { db in
            let statement = try db.cachedStatement(sql: "DELETE FROM event_outbox WHERE seq = ?")
            for sequence in sequences { try statement.execute(arguments: [sequence]) }
        }
    }

    public func deferEvent(_ sequence: Int64, attempts: Int, nextAttempt: Date, error: String, deadLetter: Bool) async throws {
        try await write { db in
            try db.execute(
                sql: "UPDATE event_outbox SET attempts = ?, next_attempt = ?, last_error = ?, failed = ? WHERE seq = ?",
                arguments: [attempts, Self.milliseconds(nextAttempt), error, deadLetter ? 1 : 0, sequence])
        }
    }

    public func failedEvents(limit: Int) async throws -> [OutboxEntry] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT \(Self.outboxColumns) FROM event_outbox WHERE failed = 1 ORDER BY seq LIMIT ?",
                arguments: [limit]
            ).map(Self.outboxEntry)
        }
    }

    public func retryFailedEvents(_ sequences: [Int64]?) async throws -> Int {
        let count = try await write { db -> Int in
            if let sequences {
                let statement = try db.cachedStatement(
                    sql: "UPDATE event_outbox SET failed = 0, attempts = 0, next_attempt = 0 WHERE seq = ? AND failed = 1")
                var count = 0
                for sequence in sequences {
                    try statement.execute(arguments: [sequence])
                    count += db.changesCount
                }
                return count
            }
            try db.execute(sql: "UPDATE event_outbox SET failed = 0, attempts = 0, next_attempt = 0 WHERE failed = 1")
            return db.changesCount
        }
        if count > 0 { eventSignal.notify() }
        return count
    }

    public func outboxDepth() async throws -> (pending: Int, failed: Int) {
        try await read { db in
            let pending = try Int.fetchOne(db, sql: "SELECT count(*) FROM event_outbox WHERE failed = 0") ?? 0
            let failed = try Int.fetchOne(db, sql: "SELECT count(*) FROM event_outbox WHERE failed = 1") ?? 0
            return (pending, failed)
        }
    }

    public func bucketUsage() async throws -> [BucketUsage] {
        try await read { db in
            try Row.fetchAll(
                db, sql: """
                    SELECT bucket_usage.*, buckets.versioning IS NOT NULL AS versioned
                    FROM bucket_usage JOIN buckets ON buckets.name = bucket_usage.bucket ORDER BY bucket
                    """
            ).map { row in
                let versioned: Bool = row["versioned"]
                return BucketUsage(
                    bucket: row["bucket"], objects: row[versioned ? "version_objects" : "current_objects"],
                    bytes: row[versioned ? "version_bytes" : "current_bytes"], uploads: row["uploads"])
            }
        }
    }

    // MARK: Recording, inside a write's transaction

    /// Runs a write that may cause events (`body` records them through ``recordEvents(of:origin:_:)``), and wakes
    /// the delivery service once the transaction holding them has committed.
    func writeCausingEvents<T: Sendable>(
        _ body: @escaping @Sendable (Database, ChangeOrigin?) throws -> (T, recorded: Bool)
    ) async throws -> T {
        let origin = ChangeOrigin.current
        let (value, recorded) = try await write { db in try body(db, origin) }
        if recorded { eventSignal.notify() }
        return value
    }

    /// Records the event `change` causes, one outbox entry per rule of the bucket's configuration that takes it.
    /// One lookup of the bucket's row when it has no configuration. Returns whether it recorded any.
    static func recordEvents(of change: IndexChange, origin: ChangeOrigin?, _ db: Database) throws -> Bool {
        guard let name = ChangeEvents.name(for: change, origin: origin), let record = change.stored ?? change.replaced else {
            return false
        }
        return try recordEvent(name, about: record, origin: origin, db)
    }

    static func recordEvent(_ name: String, about record: ObjectRecord, origin: ChangeOrigin?, _ db: Database) throws -> Bool {
        guard let (configuration, owner) = try configuration(of: record.bucket, db) else { return false }
        let events = ChangeEvents.events(
            name, record: record, configuration: configuration, origin: origin, at: Date(), bucketOwner: owner)
        for (target, event) in events { try insertEvent(target: target, json: try json(event), db) }
        return !events.isEmpty
    }

    private static func configuration(of bucket: String, _ db: Database) throws -> (NotificationConfiguration, owner: String?)? {
        guard let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT notification, owner FROM buckets WHERE name = ?"), arguments: [bucket]),
            let text = row["notification"] as String?
        else { return nil }
        return (try notificationDocuments.decode(text), row["owner"])
    }

    private static func insertEvent(target: String, json: String, _ db: Database) throws {
        try db.cachedStatement(sql: "INSERT INTO event_outbox (target, event) VALUES (?, ?)").execute(arguments: [target, json])
    }

    private static let outboxColumns = "seq, target, event, attempts, next_attempt, last_error"

    private static func outboxEntry(_ row: Row) throws -> OutboxEntry {
        let text: String = row["event"]
        return OutboxEntry(
            sequence: row["seq"], targetARN: row["target"],
            event: try JSONDecoder().decode(StoredEvent.self, from: Data(text.utf8)),
            attempts: row["attempts"], nextAttempt: date(milliseconds: row["next_attempt"]), lastError: row["last_error"])
    }
}
