import NIOCore
import ObjectStore
import PostgresNIO

/// Filling an empty database with another index's rows (`admin migrate-index`), all in one transaction: a copy that
/// fails or is interrupted leaves the database as empty as it found it.
extension PostgresIndex {
    /// Runs `body` in one transaction that holds every copied table locked against other writers, and commits what it
    /// wrote only if it returns: a failure, a mismatch it reports by throwing, or a dropped connection rolls it all
    /// back.
    public func importing<T: Sendable>(_ body: @escaping @Sendable (IndexImport) async throws -> T) async throws -> T {
        try await autocommit { session in
            try await session.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
            do {
                // A node started meanwhile (it would make an operator account) waits until the copy is done.
                let tables = IndexTable.all.map(\.name).joined(separator: ", ")
                try await session.execute(PostgresQuery(unsafeSQL: "LOCK TABLE \(tables) IN EXCLUSIVE MODE"))
                let usageTriggersOff = try await Self.pauseUsageTriggers(session)
                let value = try await body(IndexImport(session: session, usageTriggersOff: usageTriggersOff))
                try await session.execute("COMMIT")
                return value
            } catch {
                try? await session.execute("ROLLBACK")
                throw error
            }
        }
    }
}

extension PostgresIndex {
    /// The usage triggers append one delta row per copied row, which ``IndexImport/finish()`` would only delete again
    /// (it counts usage from the rows): off for the copy's transaction where its role owns the tables (it made them),
    /// as a rollback turns them back on. Where it does not, they stay on and cost the copy its deltas.
    static let usageTriggers = [("objects", "usage_objects"), ("versions", "usage_versions"), ("uploads", "usage_uploads")]

    fileprivate static func pauseUsageTriggers(_ session: Session) async throws -> Bool {
        try await session.execute("SAVEPOINT usage_triggers")
        do {
            for (table, trigger) in usageTriggers {
                try await session.execute(PostgresQuery(unsafeSQL: "ALTER TABLE \(table) DISABLE TRIGGER \(trigger)"))
            }
            try await session.execute("RELEASE SAVEPOINT usage_triggers")
            return true
        } catch {
            try await session.execute("ROLLBACK TO SAVEPOINT usage_triggers")
            return false
        }
    }
}

/// The copy's transaction, as ``PostgresIndex/importing(_:)`` hands it out.
public struct IndexImport: Sendable {
    let session: PostgresIndex.Session
    let usageTriggersOff: Bool

    /// The tables that already hold rows; a copy goes only into a database that has none.
    public func nonEmptyTables() async throws -> [String] {
        var found: [String] = []
        for table in IndexTable.all {
            let query = PostgresQuery(unsafeSQL: "SELECT EXISTS (SELECT 1 FROM \(table.name))")
            if try await session.value(Bool.self, query) == true { found.append(table.name) }
        }
        return found
    }

    /// Inserts `rows` (values in ``IndexTable/columns`` order) into `table` with one statement: one array parameter
    /// per column, unnested into rows, so the statement's text and its parsing do not grow with the batch.
    public func insert(_ rows: [[IndexValue]], into table: IndexTable) async throws {
        guard !rows.isEmpty else { return }
        var bindings = PostgresBindings(capacity: table.columns.count)
        for (index, column) in table.columns.enumerated() {
            var array = ColumnArray(kind: column.kind, column: "\(table.name).\(column.name)")
            array.values.reserveCapacity(rows.count)
            for row in rows {
                guard row.count == table.columns.count else {
                    throw StoreError.integrityFailure("a row of \(table.name) has \(row.count) values, not \(table.columns.count)")
                }
                array.values.append(row[index])
            }
            try bindings.append(array)
        }
        let arrays = table.columns.enumerated().map { "$\($0.offset + 1)::\($0.element.kind.postgresType)[]" }
        let sql = "INSERT INTO \(table.name) (\(table.columnList)) SELECT * FROM unnest(\(arrays.joined(separator: ", ")))"
        try await session.execute(PostgresQuery(unsafeSQL: sql, binds: bindings))
    }

    /// A cluster-wide setting (see ``PostgresIndex/clusterSetting(_:defaultingTo:)``), recorded with the copy.
    public func clusterSetting(_ name: String, defaultingTo value: String) async throws -> String {
        try await session.execute("INSERT INTO cluster_settings (name, value) VALUES (\(name), \(value)) ON CONFLICT DO NOTHING")
        return try await session.value(String.self, "SELECT value FROM cluster_settings WHERE name = \(name)") ?? value
    }

    /// How many rows `table` holds, as this transaction sees it.
    public func count(_ table: IndexTable) async throws -> Int64 {
        try await session.value(Int64.self, PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table.name)")) ?? 0
    }

    /// After the rows: sequences continue past the copied numbers, and each bucket's usage is counted from its rows
    /// (as SQLite's v13 did), in place of the deltas the copy's inserts appended one row at a time.
    public func finish() async throws {
        try await session.execute("""
            SELECT setval('version_seq', greatest(coalesce(max(seq), 0), 1), max(seq) IS NOT NULL) FROM versions
            """)
        try await session.execute("""
            SELECT setval(pg_get_serial_sequence('event_outbox', 'seq'), greatest(coalesce(max(seq), 0), 1),
                max(seq) IS NOT NULL)
            FROM event_outbox
            """)
        if usageTriggersOff {
            for (table, trigger) in PostgresIndex.usageTriggers {
                try await session.execute(PostgresQuery(unsafeSQL: "ALTER TABLE \(table) ENABLE TRIGGER \(trigger)"))
            }
        }
        try await session.execute("DELETE FROM usage_deltas")
        try await session.execute("DELETE FROM bucket_usage")
        try await session.execute("""
            INSERT INTO bucket_usage (bucket, current_objects, current_bytes, version_objects, version_bytes, uploads)
            SELECT buckets.name, coalesce(current.objects, 0), coalesce(current.bytes, 0), coalesce(version.objects, 0),
                coalesce(version.bytes, 0), coalesce(upload.count, 0)
            FROM buckets
            LEFT JOIN (SELECT bucket, count(*) AS objects, sum(size) AS bytes FROM objects GROUP BY bucket) AS current
                ON current.bucket = buckets.name
            LEFT JOIN (
                SELECT bucket, count(*) AS objects, sum(size) AS bytes FROM versions WHERE NOT delete_marker GROUP BY bucket
            ) AS version ON version.bucket = buckets.name
            LEFT JOIN (SELECT bucket, count(*) AS count FROM uploads GROUP BY bucket) AS upload
                ON upload.bucket = buckets.name
            """)
    }
}

/// One column of a batch as a PostgreSQL array in the binary format (PostgresNIO's own arrays hold no NULLs): a
/// one-dimensional array whose elements are each a length and the value's binary form, or -1 for NULL.
struct ColumnArray: PostgresThrowingDynamicTypeEncodable {
    let kind: IndexTable.Kind
    let column: String
    var values: [IndexValue] = []

    init(kind: IndexTable.Kind, column: String) {
        self.kind = kind
        self.column = column
    }

    var psqlType: PostgresDataType {
        switch kind {
        case .bigint: .int8Array
        case .integer: .int4Array
        case .text: .textArray
        case .bytes: .byteaArray
        case .boolean: .boolArray
        }
    }

    var elementType: PostgresDataType {
        switch kind {
        case .bigint: .int8
        case .integer: .int4
        case .text: .text
        case .bytes: .bytea
        case .boolean: .bool
        }
    }

    var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) throws {
        guard let count = Int32(exactly: values.count) else { throw StoreError.integrityFailure("\(column): too many rows") }
        buffer.writeInteger(1, as: Int32.self)  // dimensions
        buffer.writeInteger(values.contains(.null) ? 1 : 0, as: Int32.self)  // has NULLs
        buffer.writeInteger(elementType.rawValue)
        buffer.writeInteger(count)  // the one dimension's length
        buffer.writeInteger(1, as: Int32.self)  // its lower bound
        for value in values {
            switch (value, kind) {
            case (.null, _):
                buffer.writeInteger(-1, as: Int32.self)
            case (.integer(let number), .bigint):
                buffer.writeInteger(8, as: Int32.self)
                buffer.writeInteger(number)
            case (.integer(let number), .integer):
                guard let narrow = Int32(exactly: number) else {
                    throw StoreError.integrityFailure("\(column) holds \(number), too large for PostgreSQL's integer")
                }
                buffer.writeInteger(4, as: Int32.self)
                buffer.writeInteger(narrow)
            case (.boolean(let flag), .boolean):
                buffer.writeInteger(1, as: Int32.self)
                buffer.writeInteger(flag ? 1 : 0, as: UInt8.self)
            case (.text(let text), .text):
                guard let length = Int32(exactly: text.utf8.count) else { throw StoreError.integrityFailure("\(column): a value too long") }
                buffer.writeInteger(length)
                buffer.writeString(text)
            case (.bytes(let bytes), .bytes):
                guard let length = Int32(exactly: bytes.count) else { throw StoreError.integrityFailure("\(column): a value too long") }
                buffer.writeInteger(length)
                buffer.writeBytes(bytes)
            default:
                throw StoreError.integrityFailure("\(column): \(value) is not \(kind)")
            }
        }
    }
}
