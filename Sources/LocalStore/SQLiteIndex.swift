import Foundation
import GRDB
import ObjectStore

/// The object index in one SQLite database, the only owner of its connections.
///
/// A GRDB `DatabasePool` in WAL mode: reads run concurrently on snapshots, on the caller's thread; writes are
/// serialized, and each method is atomic (a read is one transaction or one statement; a write is a transaction, or
/// a savepoint in a transaction it shares with the writes that arrived with it, see ``GroupCommit``). Commits are
/// fsynced (`synchronous=FULL`): a write that returned survives `kill -9` and power loss.
///
/// Schema (see ``migrator`` for the exact SQL; migrations are append-only and named):
/// - `buckets(name PK, created_at, region)`.
/// - `objects(bucket, key, size, etag, last_modified, metadata, checksum, segments)`, primary key
///   `(bucket, key)`, `WITHOUT ROWID`: the current record of each key, clustered in key order. `key` holds the
///   key's UTF-8 bytes as a BLOB, so SQLite's `memcmp` order is S3's byte order and a listing is one seek in the
///   primary key. `metadata`, `checksum` and `segments` are JSON.
/// - `blob_refs(blob_id PK, ref_count)`: how many segments of rows refer to each blob, kept in the same
///   transactions as the rows themselves, so ``isBlobReferenced(_:)`` is one lookup and a write knows which
///   blobs it freed. Every table whose rows hold blobs (objects, parts, later noncurrent versions) counts here.
/// - `uploads` and `parts`: multipart uploads in progress; completing one moves its parts' segments into an
///   `objects` row without copying bytes. `objects.parts` keeps the part sizes and checksums.
///   `completed_uploads` keeps what each Complete of the last day answered.
///
/// Times are kept as milliseconds since 1970, rounded to the nearest millisecond.
public final class SQLiteIndex: ObjectIndex {
    private let database: DatabasePool
    private let groupCommit: GroupCommit
    /// Signalled after a write that recorded notification events commits.
    public let eventSignal = EventSignal()

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// Blocking: meant for start-up. Only one `SQLiteIndex` should have a given file open at a time.
    /// - Throws: ``StoreError/ioFailure(_:)`` if the file cannot be opened or migrated.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.label = "martlet.index"
        // Another process (an operator's sqlite3 shell) may hold a lock for a moment; wait rather than fail.
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            // WAL's default (NORMAL) may lose the last commits on power loss; an acknowledged PUT must not.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        if FileManager.default.fileExists(atPath: folder + "/" + Self.clusterMarker) {
            // An SQLite index here would know none of the cluster's objects: a server would sweep their blobs as
            // orphans, an admin command would act on an empty index.
            throw StoreError.ioFailure("""
                \(folder) is the shared folder of nodes whose index is in PostgreSQL (see \(Self.clusterMarker) there): \
                pass the same --index postgres://… to this command, or use another folder
                """)
        }
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch {
            throw StoreError.ioFailure("opening index \(path): \(error)")
        }
        database = pool
        groupCommit = GroupCommit(database: pool)
    }

    /// The file a cluster node writes in the data folder it shares with other nodes; an SQLite index refuses to open
    /// beside it.
    public static let clusterMarker = "CLUSTER"

    /// Closes the database. Later calls fail with ``StoreError/ioFailure(_:)``.
    public func close() throws {
        do { try database.close() } catch { throw StoreError.ioFailure("closing index: \(error)") }
    }

    // MARK: Buckets

    /// Records a new bucket. Throws ``StoreError/bucketAlreadyExists``.
    public func createBucket(_ bucket: BucketInfo) async throws {
        try await write { db in
            if try Self.bucketExists(bucket.name, db) { throw StoreError.bucketAlreadyExists }
            try db.execute(
                sql: """
                    INSERT INTO buckets (name, created_at, region, versioning, object_lock, owner, acl, ownership, public_access_block)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    bucket.name, Self.milliseconds(bucket.creationDate), bucket.region, bucket.versioning?.rawValue,
                    try bucket.objectLock.map { try Self.json($0) }, bucket.owner, try bucket.acl.map { try Self.json($0) },
                    bucket.ownership?.rawValue, try bucket.publicAccessBlock.map { try Self.json($0) },
                ]
            )
        }
    }

    /// The bucket named `name`, or nil.
    public func bucket(named name: String) async throws -> BucketInfo? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.bucketColumns) FROM buckets WHERE name = ?", arguments: [name])
                .map(Self.bucketInfo)
        }
    }

    /// All buckets, ordered by name.
    public func listBuckets() async throws -> [BucketInfo] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.bucketColumns) FROM buckets ORDER BY name").map(Self.bucketInfo)
        }
    }

    /// Deletes a bucket with no objects, aborting its multipart uploads (S3 would otherwise leave them
    /// unreachable). Throws ``StoreError/noSuchBucket`` or ``StoreError/bucketNotEmpty``.
    /// - Returns: The blobs of the aborted uploads' parts.
    public func deleteBucket(named name: String) async throws -> [BlobID] {
        try await write { db in
            try Self.requireBucket(name, db)
            let hasObjects = try Bool.fetchOne(
                db, sql: """
                    SELECT EXISTS (SELECT 1 FROM objects WHERE bucket = ?) OR EXISTS (SELECT 1 FROM versions WHERE bucket = ?)
                    """, arguments: [name, name]) ?? false
            if hasObjects { throw StoreError.bucketNotEmpty }
            var freed: [BlobID] = []
            let uploadIDs = try String.fetchAll(db, sql: "SELECT upload_id FROM uploads WHERE bucket = ?", arguments: [name])
            for uploadID in uploadIDs { freed += try Self.removeUpload(uploadID, db) }
            try db.execute(sql: "DELETE FROM lifecycle_due WHERE bucket = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM completed_uploads WHERE bucket = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM buckets WHERE name = ?", arguments: [name])
            return freed
        }
    }

    // MARK: Blobs

    /// Whether any record refers to `id`: one primary-key lookup.
    public func isBlobReferenced(_ id: BlobID) async throws -> Bool {
        try await read { db in
            try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM blob_refs WHERE blob_id = ?)", arguments: [id.rawValue]) ?? false
        }
    }

    // MARK: Transactions

    /// Runs `body` in a read transaction on a snapshot, reporting database failures as ``StoreError``.
    ///
    /// On the caller's thread: WAL readers never wait for the writer, and a lookup in a cached index page costs
    /// less than GRDB's async path, which hands the work to two dispatch queues and back (three thread wake-ups
    /// per read; measured as most of a 4 KiB GET's CPU on a two-core machine).
    func read<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        do { return try onCallerThread { try database.read(body) } } catch { throw Self.storeError(error) }
    }

    /// Like ``read(_:)`` for a `body` that runs a single SELECT: SQLite reads one statement from one snapshot, so
    /// the BEGIN and COMMIT around it (two more statements) are left out.
    func readOneStatement<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        do { return try onCallerThread { try database.unsafeRead(body) } } catch { throw Self.storeError(error) }
    }

    /// Runs `work` where it is: in a closure that is not async, GRDB's synchronous API is the one chosen, where an
    /// async function would pick the async overload that hops to GRDB's dispatch queues.
    private func onCallerThread<T>(_ work: () throws -> T) throws -> T {
        try work()
    }

    /// Runs `body` in a write transaction, rolled back if it throws, reporting database failures as
    /// ``StoreError``.
    ///
    /// Concurrent writes share a transaction and its fsync (``GroupCommit``); each is still all or nothing.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await groupCommit.write(body) } catch { throw Self.storeError(error) }
    }

    /// Our own errors and cancellation pass through; anything from SQLite is an I/O failure, or a full disk.
    private static func storeError(_ error: any Error) -> any Error {
        switch error {
        case is StoreError, is IdentityError, is CancellationError: error
        case let rejection as AssemblyRejection: rejection.underlying
        case let error as DatabaseError where error.resultCode == .SQLITE_FULL: StoreError.insufficientStorage("index: \(error)")
        default: StoreError.ioFailure("index: \(error)")
        }
    }

    static func bucketExists(_ name: String, _ db: Database) throws -> Bool {
        try Bool.fetchOne(
            db, sql: "SELECT EXISTS (SELECT 1 FROM buckets WHERE name = ?)", arguments: [name]) ?? false
    }

    /// Throws ``StoreError/noSuchBucket`` unless the bucket exists.
    static func requireBucket(_ name: String, _ db: Database) throws {
        if try !bucketExists(name, db) { throw StoreError.noSuchBucket }
    }

    private static let bucketColumns = "name, created_at, region, versioning, object_lock, owner, acl, ownership, public_access_block, cors, website, encryption"

    private static func bucketInfo(_ row: Row) throws -> BucketInfo {
        BucketInfo(
            name: row["name"], creationDate: date(milliseconds: row["created_at"]), region: row["region"],
            versioning: (row["versioning"] as String?).flatMap(VersioningState.init(rawValue:)),
            objectLock: try (row["object_lock"] as String?).map {
                try JSONDecoder().decode(ObjectLockConfiguration.self, from: Data($0.utf8))
            },
            owner: row["owner"],
            acl: try (row["acl"] as String?).map { try JSONDecoder().decode(AccessControlList.self, from: Data($0.utf8)) },
            ownership: (row["ownership"] as String?).flatMap(ObjectOwnership.init(rawValue:)),
            publicAccessBlock: try (row["public_access_block"] as String?).map {
                try JSONDecoder().decode(PublicAccessBlock.self, from: Data($0.utf8))
            },
            cors: try (row["cors"] as String?).map { try JSONDecoder().decode([CORSRule].self, from: Data($0.utf8)) },
            website: try (row["website"] as String?).map { try JSONDecoder().decode(WebsiteConfiguration.self, from: Data($0.utf8)) },
            encryption: try (row["encryption"] as String?).map { try JSONDecoder().decode(BucketEncryption.self, from: Data($0.utf8)) })
    }
}
