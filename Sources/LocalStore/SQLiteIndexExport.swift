import Dispatch
import Foundation
import GRDB
import ObjectStore
import Synchronization

/// A stopped server's SQLite index read table by table, as `admin migrate-index` copies it into PostgreSQL.
///
/// The caller holds the folder's `server.lock`, so nothing writes the file meanwhile. Rows come in batches from one
/// cursor per table (a read transaction on its own thread), at most two batches ahead of the consumer: a table of any
/// size costs the memory of three batches.
public final class SQLiteIndexExport: Sendable {
    private let database: DatabaseQueue
    private let path: String

    /// Opens the index at `path`, first bringing its schema up to date as a server of this version would at start.
    /// - Throws: ``StoreError/ioFailure(_:)`` if there is no index there, or it cannot be opened.
    public init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            // SQLiteIndex would create an empty one: a typo'd folder must not "migrate" nothing.
            throw StoreError.ioFailure("there is no index at \(path)")
        }
        // Migrates the schema, and refuses a folder marked as a cluster's.
        try SQLiteIndex(path: path).close()
        var configuration = Configuration()
        configuration.label = "martlet.index-export"
        configuration.busyMode = .timeout(5)
        do {
            database = try DatabaseQueue(path: path, configuration: configuration)
        } catch {
            throw StoreError.ioFailure("opening index \(path): \(error)")
        }
        self.path = path
    }

    /// How many rows `table` holds.
    public func count(_ table: IndexTable) throws -> Int64 {
        do {
            return try database.read { db in try Int64.fetchOne(db, sql: "SELECT count(*) FROM \(table.name)") ?? 0 }
        } catch {
            throw StoreError.ioFailure("counting \(table.name): \(error)")
        }
    }

    /// Hands `body` the rows of `table` in its primary key's order, in batches of at most `batchRows` rows or about
    /// `batchBytes` bytes (a row with a long part list may be large), each row its columns' values in
    /// ``IndexTable/columns`` order. The next batch is read while `body` handles one.
    public func forEachBatch(
        of table: IndexTable, batchRows: Int = 1_000, batchBytes: Int = 8 << 20,
        _ body: ([[IndexValue]]) async throws -> Void
    ) async throws {
        let (stream, continuation) = AsyncThrowingStream<[[IndexValue]], any Error>.makeStream()
        // The producer waits for a slot before handing over a batch; the consumer frees one per batch it takes.
        let slots = DispatchSemaphore(value: 2)
        let abandoned = Flag()
        continuation.onTermination = { _ in
            abandoned.value.store(true, ordering: .sequentiallyConsistent)
            slots.signal()
        }
        let database = self.database
        let sql = "SELECT \(table.columnList) FROM \(table.name) ORDER BY \(table.order)"
        Thread.detachNewThread {
            do {
                try database.read { db in
                    let cursor = try Row.fetchCursor(db, sql: sql)
                    var batch: [[IndexValue]] = []
                    var bytes = 0
                    func handOver() throws {
                        slots.wait()
                        if abandoned.value.load(ordering: .sequentiallyConsistent) { throw CancellationError() }
                        continuation.yield(batch)
                        batch = []
                        bytes = 0
                    }
                    while let row = try cursor.next() {
                        let values = try Self.values(of: row, table: table)
                        bytes += values.reduce(0) { $0 + $1.size }
                        batch.append(values)
                        if batch.count >= batchRows || bytes >= batchBytes { try handOver() }
                    }
                    if !batch.isEmpty { try handOver() }
                }
                continuation.finish()
            } catch is CancellationError {
                continuation.finish()
            } catch {
                continuation.finish(throwing: StoreError.ioFailure("reading \(table.name): \(error)"))
            }
        }
        // Leaving early (body threw) ends the stream, which lets the producer go.
        defer { continuation.finish() }
        for try await batch in stream {
            slots.signal()
            try await body(batch)
        }
    }

    private final class Flag: Sendable {
        let value = Atomic<Bool>(false)
    }

    /// Writes the write-ahead log into the file and closes it, so the file alone holds the whole index.
    public func checkpointAndClose() throws {
        do {
            try database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
            try database.close()
        } catch {
            throw StoreError.ioFailure("closing index \(path): \(error)")
        }
    }

    private static func values(of row: Row, table: IndexTable) throws -> [IndexValue] {
        try table.columns.indices.map { index in
            let value: DatabaseValue = row[index]
            switch (value.storage, table.columns[index].kind) {
            case (.null, _):
                return .null
            case (.int64(let number), .boolean):
                return .boolean(number != 0)
            case (.int64(let number), .bigint), (.int64(let number), .integer):
                return .integer(number)
            case (.string(let text), .text):
                return .text(text)
            case (.blob(let data), .bytes):
                return .bytes([UInt8](data))
            case (.string(let text), .bytes):
                // Not written by Martlet (keys are BLOBs), but a key stored as text has these bytes.
                return .bytes(Array(text.utf8))
            default:
                throw StoreError.integrityFailure(
                    "\(table.name).\(table.columns[index].name) holds \(value), not \(table.columns[index].kind)")
            }
        }
    }
}
