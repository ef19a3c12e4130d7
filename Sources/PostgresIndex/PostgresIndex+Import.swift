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
                let value = try await body(IndexImport(session: session))
                try await session.execute("COMMIT")
                return value
            } catch {
                try? await session.execute("ROLLBACK")
                throw error
            }
        }
    }
}

/// The copy's transaction, as ``PostgresIndex/importing(_:)`` hands it out.
public struct IndexImport: Sendable {
    let session: PostgresIndex.Session

    /// The tables that already hold rows; a copy goes only into a database that has none.
    public func nonEmptyTables() async throws -> [String] {
        var found: [String] = []
        for table in IndexTable.all {
            let query = PostgresQuery(unsafeSQL: "SELECT EXISTS (SELECT 1 FROM \(table.name))")
            if try await session.value(Bool.self, query) == true { found.append(table.name) }
        }
        return found
    }

    /// Inserts `rows` (values in ``IndexTable/columns`` order) into `table` with one statement.
    public func insert(_ rows: [[IndexValue]], into table: IndexTable) async throws {
        guard !rows.isEmpty else { return }
        let width = table.columns.count
        // PostgreSQL takes at most 65,535 parameters per statement.
        guard rows.count * width <= 65_535 else {
            for chunk in stride(from: 0, to: rows.count, by: 65_535 / width) {
                try await insert(Array(rows[chunk..<min(chunk + 65_535 / width, rows.count)]), into: table)
            }
            return
        }
        var sql = "INSERT INTO \(table.name) (\(table.columnList)) VALUES "
        var bindings = PostgresBindings(capacity: rows.count * width)
        var parameter = 0
        for (rowIndex, row) in rows.enumerated() {
            guard row.count == width else {
                throw StoreError.integrityFailure("a row of \(table.name) has \(row.count) values, not \(width)")
            }
            sql += rowIndex == 0 ? "(" : ", ("
            for (columnIndex, (column, value)) in zip(table.columns, row).enumerated() {
                parameter += 1
                sql += (columnIndex == 0 ? "" : ", ") + "$\(parameter)::\(column.kind.postgresType)"
                try Self.bind(value, as: column.kind, to: &bindings, column: "\(table.name).\(column.name)")
            }
            sql += ")"
        }
        try await session.execute(PostgresQuery(unsafeSQL: sql, binds: bindings))
    }

    private static func bind(_ value: IndexValue, as kind: IndexTable.Kind, to bindings: inout PostgresBindings, column: String) throws {
        switch (value, kind) {
        case (.null, _):
            bindings.appendNull()
        case (.integer(let number), .bigint):
            bindings.append(number)
        case (.integer(let number), .integer):
            guard let narrow = Int32(exactly: number) else {
                throw StoreError.integrityFailure("\(column) holds \(number), too large for PostgreSQL's integer")
            }
            bindings.append(narrow)
        case (.boolean(let flag), .boolean):
            bindings.append(flag)
        case (.text(let text), .text):
            bindings.append(text)
        case (.bytes(let bytes), .bytes):
            bindings.append(ByteBuffer(bytes: bytes))
        default:
            throw StoreError.integrityFailure("\(column): \(value) is not \(kind)")
        }
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
