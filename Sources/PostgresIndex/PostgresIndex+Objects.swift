import Foundation
import NIOCore
import ObjectStore
import PostgresNIO

extension PostgresIndex: ObjectIndex {
    // MARK: Buckets

    public func createBucket(_ bucket: BucketInfo) async throws {
        let objectLock = try bucket.objectLock.map { try IndexColumns.json($0) }
        let acl = try bucket.acl.map { try IndexColumns.json($0) }
        let block = try bucket.publicAccessBlock.map { try IndexColumns.json($0) }
        try await writeSetting { session in
            let inserted = try await session.rows("""
                INSERT INTO buckets (name, created_at, region, versioning, object_lock, owner, acl, ownership, public_access_block)
                VALUES (\(bucket.name), \(IndexColumns.milliseconds(bucket.creationDate)), \(bucket.region),
                        \(bucket.versioning?.rawValue), \(objectLock), \(bucket.owner), \(acl), \(bucket.ownership?.rawValue), \(block))
                ON CONFLICT (name) DO NOTHING RETURNING name
                """)
            if inserted.isEmpty { throw StoreError.bucketAlreadyExists }
            try await session.execute("INSERT INTO bucket_usage (bucket) VALUES (\(bucket.name)) ON CONFLICT DO NOTHING")
        }
    }

    public func bucket(named name: String) async throws -> BucketInfo? {
        try await autocommit { session in
            try await session.row("SELECT \(unescaped: Self.bucketColumns) FROM buckets WHERE name = \(name)").map(Self.bucketInfo)
        }
    }

    public func listBuckets() async throws -> [BucketInfo] {
        try await autocommit { session in
            try await session.rows("SELECT \(unescaped: Self.bucketColumns) FROM buckets ORDER BY name")
                .map(Self.bucketInfo)
        }
    }

    public func deleteBucket(named name: String) async throws -> [BlobID] {
        try await writeSetting { session in
            try await Self.requireBucket(name, session)
            let hasObjects = try await session.value(Bool.self, """
                SELECT EXISTS (SELECT 1 FROM objects WHERE bucket = \(name)) OR EXISTS (SELECT 1 FROM versions WHERE bucket = \(name))
                """) ?? false
            if hasObjects { throw StoreError.bucketNotEmpty }
            var freed: [BlobID] = []
            let uploads = try await session.rows("SELECT upload_id FROM uploads WHERE bucket = \(name)")
            for row in uploads { freed += try await Self.removeUpload(try row[0].decode(String.self), session) }
            try await session.execute("DELETE FROM lifecycle_due WHERE bucket = \(name)")
            try await session.execute("DELETE FROM completed_uploads WHERE bucket = \(name)")
            try await session.execute("DELETE FROM usage_deltas WHERE bucket = \(name)")
            try await session.execute("DELETE FROM bucket_usage WHERE bucket = \(name)")
            try await session.execute("DELETE FROM buckets WHERE name = \(name)")
            return freed
        }
    }

    static func requireBucket(_ name: String, _ session: Session) async throws {
        if try await session.row("SELECT 1 FROM buckets WHERE name = \(name)") == nil { throw StoreError.noSuchBucket }
    }

    static let bucketColumns = "name, created_at, region, versioning, object_lock, owner, acl, ownership, public_access_block, cors, website, encryption"

    static func bucketInfo(_ row: PostgresRandomAccessRow) throws -> BucketInfo {
        func document<T: Decodable>(_ column: String, _ type: T.Type) throws -> T? {
            try row[column].decode(String?.self).map { try IndexColumns.decode(T.self, json: $0) }
        }
        return BucketInfo(
            name: try row["name"].decode(String.self),
            creationDate: IndexColumns.date(milliseconds: try row["created_at"].decode(Int64.self)),
            region: try row["region"].decode(String.self),
            versioning: try row["versioning"].decode(String?.self).flatMap(VersioningState.init(rawValue:)),
            objectLock: try document("object_lock", ObjectLockConfiguration.self),
            owner: try row["owner"].decode(String?.self),
            acl: try document("acl", AccessControlList.self),
            ownership: try row["ownership"].decode(String?.self).flatMap(ObjectOwnership.init(rawValue:)),
            publicAccessBlock: try document("public_access_block", PublicAccessBlock.self),
            cors: try document("cors", [CORSRule].self),
            website: try document("website", WebsiteConfiguration.self),
            encryption: try document("encryption", BucketEncryption.self))
    }

    // MARK: Objects

    public func object(bucket: String, key: String) async throws -> ObjectRecord? {
        try await autocommit { session in
            // One statement answers both "does the bucket exist" and "what is the record".
            guard let row = try await session.row("""
                SELECT buckets.name AS bucket_name, \(unescaped: Self.objectColumns(prefix: "objects."))
                FROM buckets LEFT JOIN objects ON objects.bucket = buckets.name AND objects.key = \(Self.keyBytes(key))
                WHERE buckets.name = \(bucket)
                """)
            else { throw StoreError.noSuchBucket }
            if try row["key"].decode(ByteBuffer?.self) == nil { return nil }
            return try Self.objectRecord(row, bucket: bucket)
        }
    }

    public func putObject(_ record: ObjectRecord, condition: WriteCondition, source: SharedSource?) async throws -> IndexChange {
        let encoded = try EncodedRecord(record)
        return try await writeCausingEvents { session, origin in
            let (traits, current) = try await Self.bucketTraitsAndCurrent(bucket: record.bucket, key: encoded.key, session)
            if let source { try await Self.requireSource(source, session) }
            if !condition.holds(for: current) { throw StoreError.preconditionFailed }
            let (stored, freed) = try await Self.storeCurrent(record, encoded: encoded, replacing: current, bucket: traits, session)
            let change = IndexChange(replaced: current, freedBlobs: freed, stored: stored)
            return (change, try await Self.recordEvents(of: change, origin: origin, bucket: traits, session))
        }
    }

    public func deleteObject(bucket: String, key: String) async throws -> IndexChange {
        try await writeCausingEvents { session, origin in
            let state = try await Self.versioning(bucket, session)
            let change = try await Self.deleteCurrent(bucket: bucket, key: key, versioning: state, session)
            return (change, try await Self.recordEvents(of: change, origin: origin, session))
        }
    }

    public func deleteObjects(
        bucket: String, requests: [DeleteRequest], bypassGovernance: Bool
    ) async throws -> [Result<IndexChange, StoreError>] {
        try await writeCausingEvents { session, origin in
            let state = try await Self.versioning(bucket, session)
            // Two batches naming the same keys in different orders would lock their rows in those orders and deadlock,
            // which PostgreSQL breaks only after deadlock_timeout (1 s), again on every retry: take the current rows in
            // key order first (FOR UPDATE locks rows as they leave the sort).
            // (Not a Set of Strings: Swift would merge keys that differ only in Unicode normalization.)
            let keys = requests.map { Self.keyBytes($0.key) }
            try await session.execute("""
                SELECT 1 FROM objects WHERE bucket = \(bucket) AND key = ANY(\(keys)) ORDER BY key FOR UPDATE
                """)
            var recorded = false
            var results: [Result<IndexChange, StoreError>] = []
            for request in requests {
                do {
                    let change = if let versionID = request.versionID {
                        try await Self.deleteVersion(
                            bucket: bucket, key: request.key, versionID: versionID, versioning: state,
                            bypassGovernance: bypassGovernance, session)
                    } else {
                        try await Self.deleteCurrent(bucket: bucket, key: request.key, versioning: state, session)
                    }
                    if try await Self.recordEvents(of: change, origin: origin, session) { recorded = true }
                    results.append(.success(change))
                } catch StoreError.objectLocked {
                    // Refused before it changed anything, so the rest of the batch goes on.
                    results.append(.failure(.objectLocked))
                }
            }
            return (results, recorded)
        }
    }

    public func scan(bucket: String, range: KeyRange, limit: Int) async throws -> [ObjectRecord] {
        try await read { session in
            try await Self.requireBucket(bucket, session)
            if limit <= 0 { return [] }
            var query = PostgresQuery(unsafeSQL: "SELECT \(Self.listingColumns) FROM objects WHERE bucket = $1")
            query.binds.append(bucket)
            Self.appendKeyRange(range, to: &query)
            query.append(" ORDER BY key LIMIT ", limit)
            return try await session.rows(query).map { try Self.objectRecord($0, bucket: bucket) }
        }
    }

    public func isBlobReferenced(_ id: BlobID) async throws -> Bool {
        try await autocommit { session in
            try await session.row("SELECT 1 FROM blob_refs WHERE blob_id = \(id.rawValue)") != nil
        }
    }

    // MARK: Inside a transaction

    /// Appends the `key` bounds of `range` to a WHERE clause: the seek every listing shares. `bytea` compares as
    /// bytes, so this is S3's order.
    static func appendKeyRange(_ range: KeyRange, to query: inout PostgresQuery) {
        if !range.lower.isEmpty || !range.lowerInclusive {
            query.append(range.lowerInclusive ? " AND key >= " : " AND key > ", ByteBuffer(bytes: range.lower))
        }
        if let upper = range.upper {
            query.append(" AND key < ", ByteBuffer(bytes: upper))
        }
    }

    static func currentRecord(bucket: String, key: ByteBuffer, _ session: Session) async throws -> ObjectRecord? {
        try await session.row("""
            SELECT \(unescaped: objectColumns(prefix: "")) FROM objects WHERE bucket = \(bucket) AND key = \(key)
            """).map { try objectRecord($0, bucket: bucket) }
    }

    /// Throws ``StoreError/sourceChanged`` unless the source object still holds the shared segments.
    static func requireSource(_ source: SharedSource, _ session: Session) async throws {
        let key = keyBytes(source.key)
        let current: ObjectRecord?
        if let version = source.versionID, try await versioning(source.bucket, session) != nil {
            current = try await versionRecord(bucket: source.bucket, key: key, versionID: version, session)
        } else {
            current = try await currentRecord(bucket: source.bucket, key: key, session)
        }
        guard let current else { throw StoreError.sourceChanged }
        let held = Set(current.segments.map(\.blobID))
        guard source.segments.allSatisfy({ held.contains($0.blobID) }) else { throw StoreError.sourceChanged }
    }

    /// Adds one reference to each segment's blob, in one statement.
    static func addReferences(to segments: [BlobSegment], _ session: Session) async throws {
        _ = try await moveReferences(adding: segments, dropping: [], session)
    }

    /// Removes one reference to each segment's blob, forgetting blobs no row refers to any more, in one statement.
    /// - Returns: The blobs that lost their last reference.
    static func dropReferences(to segments: [BlobSegment], _ session: Session) async throws -> [BlobID] {
        try await moveReferences(adding: [], dropping: segments, session)
    }
}

extension PostgresQuery {
    /// Appends SQL text and one value bound to the next placeholder.
    mutating func append(_ sql: String, _ value: some PostgresDynamicTypeEncodable) {
        binds.append(value)
        self.sql += "\(sql)$\(binds.count)"
    }
}
