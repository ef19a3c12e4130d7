/// The tables both indexes hold with the same columns and values (see ``IndexColumns``), as `admin migrate-index`
/// copies them from SQLite to PostgreSQL: values, never records, so nothing is decoded and encoded again.
///
/// Not copied: `bucket_usage` (recomputed from the copied rows), and the tables only a cluster has (nodes, leases,
/// the blob graveyard, cluster settings), which start empty.
public struct IndexTable: Sendable, Equatable {
    /// How a column is held: SQLite holds booleans as the integers 0 and 1, PostgreSQL as `boolean`; PostgreSQL's
    /// `integer` columns (4 bytes) take a narrower parameter than its `bigint` ones.
    public enum Kind: Sendable, Equatable {
        case bigint, integer, text, bytes, boolean

        /// The PostgreSQL type a parameter of this kind is cast to.
        public var postgresType: String {
            switch self {
            case .bigint: "bigint"
            case .integer: "integer"
            case .text: "text"
            case .bytes: "bytea"
            case .boolean: "boolean"
            }
        }
    }

    public let name: String
    public let columns: [(name: String, kind: Kind)]
    /// The order rows are read in: the primary key, so a copy reads the table as it is laid out (and the outbox in
    /// delivery order).
    public let order: String

    public var columnList: String { columns.map(\.name).joined(separator: ", ") }

    public static func == (lhs: IndexTable, rhs: IndexTable) -> Bool {
        lhs.name == rhs.name && lhs.columns.map(\.name) == rhs.columns.map(\.name)
            && lhs.columns.map(\.kind) == rhs.columns.map(\.kind) && lhs.order == rhs.order
    }

    /// Every copied table, parents before the rows that name them.
    public static let all: [IndexTable] = [
        IndexTable(name: "accounts", columns: [
            ("id", .text), ("canonical_id", .text), ("name", .text), ("display_name", .text), ("email", .text),
            ("created_at", .bigint), ("disabled", .boolean), ("is_operator", .boolean),
        ], order: "id"),
        IndexTable(name: "iam_users", columns: [
            ("account_id", .text), ("name", .text), ("user_id", .text), ("path", .text), ("created_at", .bigint),
        ], order: "account_id, name"),
        IndexTable(name: "access_keys", columns: [
            ("id", .text), ("account_id", .text), ("user_name", .text), ("sealed_secret", .bytes), ("active", .boolean),
            ("created_at", .bigint),
        ], order: "id"),
        IndexTable(name: "user_policies", columns: [
            ("account_id", .text), ("user_name", .text), ("policy_name", .text), ("document", .text),
        ], order: "account_id, user_name, policy_name"),
        IndexTable(name: "kms_keys", columns: [
            ("id", .text), ("account_id", .text), ("alias", .text), ("description", .text), ("created_at", .bigint),
            ("enabled", .boolean), ("material", .bytes), ("policy", .text),
        ], order: "id"),
        IndexTable(name: "buckets", columns: [
            ("name", .text), ("created_at", .bigint), ("region", .text), ("versioning", .text), ("tags", .text),
            ("lifecycle", .text), ("object_lock", .text), ("owner", .text), ("policy", .text), ("acl", .text),
            ("ownership", .text), ("public_access_block", .text), ("cors", .text), ("website", .text),
            ("encryption", .text), ("notification", .text),
        ], order: "name"),
        IndexTable(name: "objects", columns: [
            ("bucket", .text), ("key", .bytes), ("size", .bigint), ("etag", .text), ("last_modified", .bigint),
            ("metadata", .text), ("checksum", .text), ("segments", .text), ("parts", .text), ("version_id", .text),
        ], order: "bucket, key"),
        IndexTable(name: "versions", columns: [
            ("bucket", .text), ("key", .bytes), ("seq", .bigint), ("version_id", .text), ("delete_marker", .boolean),
            ("size", .bigint), ("etag", .text), ("last_modified", .bigint), ("metadata", .text), ("checksum", .text),
            ("segments", .text), ("parts", .text),
        ], order: "bucket, key, seq DESC"),
        IndexTable(name: "blob_refs", columns: [("blob_id", .text), ("ref_count", .bigint)], order: "blob_id"),
        IndexTable(name: "uploads", columns: [
            ("upload_id", .text), ("bucket", .text), ("key", .bytes), ("initiated", .bigint), ("metadata", .text),
            ("checksum_algorithm", .text), ("checksum_type", .text),
        ], order: "upload_id"),
        IndexTable(name: "parts", columns: [
            ("upload_id", .text), ("part_number", .integer), ("size", .bigint), ("etag", .text),
            ("last_modified", .bigint), ("checksum", .text), ("segments", .text),
        ], order: "upload_id, part_number"),
        IndexTable(name: "completed_uploads", columns: [
            ("upload_id", .text), ("bucket", .text), ("key", .bytes), ("fingerprint", .text), ("etag", .text),
            ("checksum", .text), ("version_id", .text), ("completed_at", .bigint),
        ], order: "upload_id"),
        IndexTable(name: "lifecycle_due", columns: [("due_at", .bigint), ("bucket", .text), ("key", .bytes)],
                   order: "due_at, bucket, key"),
        IndexTable(name: "event_outbox", columns: [
            ("seq", .bigint), ("target", .text), ("event", .text), ("attempts", .integer), ("next_attempt", .bigint),
            ("failed", .boolean), ("last_error", .text),
        ], order: "seq"),
    ]
}

/// One column's value on its way from one index to the other.
public enum IndexValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case boolean(Bool)
    case text(String)
    case bytes([UInt8])

    /// About how many bytes the value takes, for the progress display and for bounding a batch.
    public var size: Int {
        switch self {
        case .null: 0
        case .integer: 8
        case .boolean: 1
        case .text(let text): text.utf8.count
        case .bytes(let bytes): bytes.count
        }
    }
}
