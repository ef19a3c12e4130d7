import Foundation
import NIOCore
import ObjectStore
import PostgresNIO

/// The notification outbox, written by the same transaction as the change that causes each event, and the
/// per-bucket usage that triggers keep as appended deltas.
extension PostgresIndex: NotificationIndex {
    private static let notificationDocuments = DecodedDocumentCache<NotificationConfiguration>(capacity: 256, maxTextLength: 1 << 20)

    public func setNotification(
        _ configuration: NotificationConfiguration?, bucket: String, testEvents: [(targetARN: String, event: StoredEvent)]
    ) async throws {
        let encoded = try configuration.map { try IndexColumns.json($0) }
        let tests = try testEvents.map { ($0.targetARN, try IndexColumns.json($0.event)) }
        try await writeSetting { session in
            let updated = try await session.rows("UPDATE buckets SET notification = \(encoded) WHERE name = \(bucket) RETURNING 1")
            if updated.isEmpty { throw StoreError.noSuchBucket }
            for (target, event) in tests { try await Self.insertEvent(target: target, json: event, session) }
        }
        if !tests.isEmpty { eventSignal.notify() }
    }

    public func notification(bucket: String) async throws -> NotificationConfiguration? {
        try await autocommit { session in
            guard let row = try await session.row("SELECT notification FROM buckets WHERE name = \(bucket)") else {
                throw StoreError.noSuchBucket
            }
            return try row[0].decode(String?.self).map(Self.notificationDocuments.decode)
        }
    }

    public func pendingEvents(limit: Int) async throws -> [OutboxEntry] {
        try await autocommit { session in
            try await session.rows("SELECT \(unescaped: Self.outboxColumns) FROM event_outbox WHERE NOT failed ORDER BY seq LIMIT \(limit)")
                .map(Self.outboxEntry)
        }
    }

    public func finishEvents(_ sequences: [Int64]) async throws {
        guard !sequences.isEmpty else { return }
        try await write { session in
            try await session.execute("DELETE FROM event_outbox WHERE seq = ANY(\(sequences))")
        }
    }

    public func deferEvent(_ sequence: Int64, attempts: Int, nextAttempt: Date, error: String, deadLetter: Bool) async throws {
        try await write { session in
            try await session.execute("""
                UPDATE event_outbox SET attempts = \(Int32(clamping: attempts)), next_attempt = \(IndexColumns.milliseconds(nextAttempt)),
                    last_error = \(error), failed = \(deadLetter)
                WHERE seq = \(sequence)
                """)
        }
    }

    public func failedEvents(limit: Int) async throws -> [OutboxEntry] {
        try await autocommit { session in
            try await session.rows("SELECT \(unescaped: Self.outboxColumns) FROM event_outbox WHERE failed ORDER BY seq LIMIT \(limit)")
                .map(Self.outboxEntry)
        }
    }

    public func retryFailedEvents(_ sequences: [Int64]?) async throws -> Int {
        let count = try await write { session -> Int in
            let retried = if let sequences {
                try await session.rows("""
                    UPDATE event_outbox SET failed = false, attempts = 0, next_attempt = 0
                    WHERE failed AND seq = ANY(\(sequences)) RETURNING 1
                    """)
            } else {
                try await session.rows("UPDATE event_outbox SET failed = false, attempts = 0, next_attempt = 0 WHERE failed RETURNING 1")
            }
            return retried.count
        }
        if count > 0 { eventSignal.notify() }
        return count
    }

    public func outboxDepth() async throws -> (pending: Int, failed: Int) {
        try await autocommit { session in
            guard let row = try await session.row("""
                SELECT count(*) FILTER (WHERE NOT failed), count(*) FILTER (WHERE failed) FROM event_outbox
                """)
            else { return (0, 0) }
            return (Int(try row[0].decode(Int64.self)), Int(try row[1].decode(Int64.self)))
        }
    }

    public func bucketUsage() async throws -> [BucketUsage] {
        try await autocommit { session in
            // Fold the deltas appended so far: each is deleted and added in one statement, so any node may fold at
            // any time and a delta counts once. READ COMMITTED (autocommit) never aborts a writer's transaction.
            try await session.execute("""
                WITH moved AS (DELETE FROM usage_deltas RETURNING *),
                sums AS (
                    SELECT bucket, sum(current_objects) AS co, sum(current_bytes) AS cb, sum(version_objects) AS vo,
                        sum(version_bytes) AS vb, sum(uploads) AS up
                    FROM moved GROUP BY bucket
                )
                INSERT INTO bucket_usage AS usage (bucket, current_objects, current_bytes, version_objects, version_bytes, uploads)
                SELECT bucket, co, cb, vo, vb, up FROM sums
                ON CONFLICT (bucket) DO UPDATE SET
                    current_objects = usage.current_objects + excluded.current_objects,
                    current_bytes = usage.current_bytes + excluded.current_bytes,
                    version_objects = usage.version_objects + excluded.version_objects,
                    version_bytes = usage.version_bytes + excluded.version_bytes,
                    uploads = usage.uploads + excluded.uploads
                """)
            return try await session.rows("""
                SELECT usage.bucket, usage.current_objects, usage.current_bytes, usage.version_objects, usage.version_bytes,
                    usage.uploads, buckets.versioning IS NOT NULL AS versioned
                FROM bucket_usage AS usage JOIN buckets ON buckets.name = usage.bucket ORDER BY usage.bucket
                """
            ).map { row in
                let versioned = try row["versioned"].decode(Bool.self)
                return BucketUsage(
                    bucket: try row["bucket"].decode(String.self),
                    objects: try row[versioned ? "version_objects" : "current_objects"].decode(Int64.self),
                    bytes: try row[versioned ? "version_bytes" : "current_bytes"].decode(Int64.self),
                    uploads: try row["uploads"].decode(Int64.self))
            }
        }
    }

    // MARK: Recording, inside a write's transaction

    /// Runs a write that may cause events (`body` records them through ``recordEvents(of:origin:_:)``), and wakes this
    /// node's delivery service once the transaction holding them has committed.
    func writeCausingEvents<T: Sendable>(
        _ body: @escaping @Sendable (Session, ChangeOrigin?) async throws -> (T, recorded: Bool)
    ) async throws -> T {
        let origin = ChangeOrigin.current
        let (value, recorded) = try await write { session in try await body(session, origin) }
        if recorded { eventSignal.notify() }
        return value
    }

    /// Records the event `change` causes, one outbox entry per rule of the bucket's configuration that takes it.
    static func recordEvents(of change: IndexChange, origin: ChangeOrigin?, _ session: Session) async throws -> Bool {
        guard let name = ChangeEvents.name(for: change, origin: origin), let record = change.stored ?? change.replaced else {
            return false
        }
        return try await recordEvent(name, about: record, origin: origin, session)
    }

    /// As ``recordEvents(of:origin:_:)``, with the bucket's traits the transaction has already read.
    static func recordEvents(of change: IndexChange, origin: ChangeOrigin?, bucket traits: BucketTraits, _ session: Session) async throws -> Bool {
        guard let text = traits.notification, let name = ChangeEvents.name(for: change, origin: origin),
              let record = change.stored ?? change.replaced
        else { return false }
        return try await recordEvent(name, about: record, notification: text, owner: traits.owner, origin: origin, session)
    }

    static func recordEvent(_ name: String, about record: ObjectRecord, origin: ChangeOrigin?, _ session: Session) async throws -> Bool {
        guard let row = try await session.row("SELECT notification, owner FROM buckets WHERE name = \(record.bucket)"),
              let text = try row["notification"].decode(String?.self)
        else { return false }
        return try await recordEvent(
            name, about: record, notification: text, owner: try row["owner"].decode(String?.self), origin: origin, session)
    }

    private static func recordEvent(
        _ name: String, about record: ObjectRecord, notification text: String, owner: String?, origin: ChangeOrigin?,
        _ session: Session
    ) async throws -> Bool {
        let configuration = try notificationDocuments.decode(text)
        let events = ChangeEvents.events(
            name, record: record, configuration: configuration, origin: origin, at: Date(), bucketOwner: owner)
        for (target, event) in events { try await insertEvent(target: target, json: try IndexColumns.json(event), session) }
        return !events.isEmpty
    }

    private static func insertEvent(target: String, json: String, _ session: Session) async throws {
        try await session.execute("INSERT INTO event_outbox (target, event) VALUES (\(target), \(json))")
    }

    private static let outboxColumns = "seq, target, event, attempts, next_attempt, last_error"

    private static func outboxEntry(_ row: PostgresRandomAccessRow) throws -> OutboxEntry {
        OutboxEntry(
            sequence: try row["seq"].decode(Int64.self), targetARN: try row["target"].decode(String.self),
            event: try IndexColumns.decode(StoredEvent.self, json: try row["event"].decode(String.self)),
            attempts: Int(try row["attempts"].decode(Int32.self)),
            nextAttempt: IndexColumns.date(milliseconds: try row["next_attempt"].decode(Int64.self)),
            lastError: try row["last_error"].decode(String?.self))
    }
}
