import ArgumentParser
import Foundation
import LocalStore
import Logging
import ObjectStore
import PostgresIndex
import S3API

/// `martlet admin migrate-index --from DATA --to postgres://…`: from one server to several nodes. Copies a stopped
/// server's SQLite index into an empty PostgreSQL database, in one transaction that commits only once every table's
/// count matches; then retires `DATA/index.sqlite`, so that DATA can become the nodes' shared folder (the blobs stay
/// where they are).
struct MigrateIndexCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate-index",
        abstract: "Copy a stopped server's index (DATA/index.sqlite) into an empty PostgreSQL database, for several nodes.",
        discussion: """
            The server must be stopped. Every table is copied in one transaction, and the counts of both indexes are \
            compared before it commits: if anything fails, the database is left empty and DATA untouched, so the \
            command can simply run again. On success DATA/index.sqlite becomes DATA/index.sqlite.migrated, and the \
            nodes start with --index and --data DATA. Secrets are copied sealed: every node must use this folder's \
            master key (DATA/master.key, or the MARTLET_MASTER_KEY the server was given).
            """)

    @Option(name: .customLong("from"), help: "The stopped server's data folder.")
    var from: String

    @Option(name: .customLong("to"), help: "The empty database, postgres://USER:PASSWORD@HOST:PORT/DATABASE[?sslmode=…].")
    var to: String

    @Option(help: .hidden) var batchRows = 1_000

    static let indexFile = "index.sqlite"
    static let retiredSuffix = ".migrated"

    func validate() throws {
        guard (1...10_000).contains(batchRows) else { throw ValidationError("--batch-rows must be 1 to 10000") }
    }

    func run() async throws {
        let data = URL(fileURLWithPath: from).standardizedFileURL.path
        let indexPath = data + "/" + Self.indexFile
        let retiredPath = indexPath + Self.retiredSuffix
        guard FileManager.default.fileExists(atPath: indexPath) else {
            if FileManager.default.fileExists(atPath: retiredPath) {
                throw AdminFailure(description: "\(data) was already migrated (\(Self.indexFile)\(Self.retiredSuffix) is there, \(Self.indexFile) is not)")
            }
            throw AdminFailure(description: "\(data) holds no \(Self.indexFile): give --from the data folder of a single server")
        }
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: retiredPath + suffix) {
            throw AdminFailure(description: "\(retiredPath + suffix) exists, from an earlier migration: move it away first")
        }
        let lock = try DataFolderLock(
            dataDirectory: data, purpose: "stop it first: migrate-index copies the index of a stopped server")
        defer { lock.release() }

        let (masterKey, keySource) = try Self.masterKey(data: data)
        try await Self.requireSecretsOpen(indexPath: indexPath, masterKey: masterKey, keySource: keySource)
        let source = try SQLiteIndexExport(path: indexPath)

        var quiet = Logger(label: "martlet.admin")
        quiet.logLevel = .error
        let target = try PostgresIndex(url: to, maximumConnections: 2, logger: quiet)
        let shownURL = try PostgresURLDescription(to)
        let pool = Task { await target.run() }
        defer { pool.cancel() }
        try await target.migrate()

        let counts: [TableCount]
        do {
            counts = try await copy(from: source, to: target, masterKey: masterKey, keySource: keySource, shownURL: shownURL,
                                    indexPath: indexPath)
        } catch let failure as AdminFailure {
            throw failure
        } catch {
            throw AdminFailure(description: """
                the copy failed and was rolled back: \(error). \(shownURL) holds none of it and \(indexPath) is untouched; \
                fix the cause and run the command again
                """)
        }

        do {
            try source.checkpointAndClose()
            try Self.retire(indexPath: indexPath, as: retiredPath)
        } catch {
            throw AdminFailure(description: """
                the index was copied (\(counts.count) tables verified and committed), but \(indexPath) could not be \
                renamed to \(retiredPath): \(error). Rename it (and any -wal/-shm beside it) by hand before starting a node
                """)
        }
        print("""

            Copied the index of \(data) into \(shownURL) and verified every table's count.
            \(indexPath) is now \(retiredPath): a backup no server reads (the folder's blobs are the nodes' now).
            Access keys and KMS keys were copied sealed under the master key of \(keySource): every node must use \
            that same key\(keySource.hasPrefix("MARTLET_MASTER_KEY") ? " (set MARTLET_MASTER_KEY for every node)" : "").
            Start each node with its own --node-id, on machines that mount \(data) at that same path:

              martlet server --index '\(shownURL)' --data '\(data)' --node-id node-1
            """)
        if (URLComponents(string: to)?.password).map({ !$0.isEmpty }) ?? false {
            print("\n(**** stands for the password given to --to; MARTLET_INDEX may carry the URL instead of --index.)")
        }
    }

    /// Every table in one transaction of the target's, verified by counts before it commits.
    private func copy(
        from source: SQLiteIndexExport, to target: PostgresIndex, masterKey: MasterKey, keySource: String,
        shownURL: PostgresURLDescription, indexPath: String
    ) async throws -> [TableCount] {
        let batchRows = self.batchRows
        return try await target.importing { database in
            let occupied = try await database.nonEmptyTables()
            guard occupied.isEmpty else {
                throw AdminFailure(description: """
                    \(shownURL) is not empty (rows in \(occupied.joined(separator: ", "))): migrate-index copies into an \
                    empty database only; create a new one (CREATE DATABASE) and run it again
                    """)
            }
            // Recorded as the first node would record it (see ClusterKeyCheck): nodes with another key refuse to start.
            let recorded = try await database.clusterSetting("master-key-fingerprint", defaultingTo: masterKey.fingerprintText)
            guard masterKey.recognizes(fingerprintText: recorded) else {
                throw AdminFailure(description: """
                    \(shownURL) belongs to nodes with another master key than \(keySource): migrate into a new database
                    """)
            }
            for table in IndexTable.all {
                let progress = Progress(table.name, unit: "rows", totalItems: Int(try source.count(table)), totalBytes: nil)
                try await source.forEachBatch(of: table, batchRows: batchRows) { batch in
                    try await database.insert(batch, into: table)
                    progress.advance(items: batch.count, bytes: Int64(batch.reduce(0) { $0 + $1.reduce(0) { $0 + $1.size } }))
                }
                progress.finish()
            }
            try await database.finish()
            var counts: [TableCount] = []
            for table in IndexTable.all {
                counts.append(TableCount(table: table.name, sqlite: try source.count(table), postgres: try await database.count(table)))
            }
            Self.printCounts(counts)
            let wrong = counts.filter { $0.sqlite != $0.postgres }
            guard wrong.isEmpty else {
                throw AdminFailure(description: """
                    the counts of \(wrong.map(\.table).joined(separator: ", ")) differ: nothing was committed, \
                    \(shownURL) is still empty and \(indexPath) untouched
                    """)
            }
            return counts
        }
    }

    struct TableCount: Sendable {
        var table: String
        var sqlite: Int64
        var postgres: Int64
    }

    static func printCounts(_ counts: [TableCount]) {
        print("TABLE".padding(toLength: 20, withPad: " ", startingAt: 0) + "SQLITE".leftPadded(14) + "POSTGRESQL".leftPadded(14))
        for count in counts {
            print(count.table.padding(toLength: 20, withPad: " ", startingAt: 0) + "\(count.sqlite)".leftPadded(14)
                + "\(count.postgres)".leftPadded(14) + (count.sqlite == count.postgres ? "" : "   MISMATCH"))
        }
    }

    /// The key the index's secrets are sealed under. Never a new one: a folder without its key (the server had
    /// MARTLET_MASTER_KEY) would have its secrets copied under a key that cannot open them.
    static func masterKey(data: String) throws -> (MasterKey, String) {
        let environment = ProcessInfo.processInfo.environment
        if environment["MARTLET_MASTER_KEY"] != nil {
            return (try MasterKey.load(dataDirectory: data), "MARTLET_MASTER_KEY")
        }
        let file = data + "/master.key"
        guard FileManager.default.fileExists(atPath: file) else {
            throw AdminFailure(description: """
                \(data) has no master.key: set MARTLET_MASTER_KEY to the key the server used, which seals the \
                index's access keys and KMS keys
                """)
        }
        return (try MasterKey.load(dataDirectory: data), file)
    }

    /// Every enabled account's root access keys must open under `masterKey`, or the nodes could not use them.
    static func requireSecretsOpen(indexPath: String, masterKey: MasterKey, keySource: String) async throws {
        let index = try SQLiteIndex(path: indexPath)
        defer { try? index.close() }
        let directory = IdentityDirectory(index: index, masterKey: masterKey)
        try await directory.reload()
        let records = try await index.identityRecords(accountID: nil)
        let enabled = Set(records.accounts.filter { !$0.isDisabled }.map(\.id))
        let rootKeys = records.accessKeys.filter { $0.isActive && $0.userName == nil && enabled.contains($0.accountID) }
        let unopened = rootKeys.filter { key in
            if case .valid = directory.credential(forAccessKey: key.id) { return false }
            return true
        }
        guard unopened.isEmpty else {
            throw AdminFailure(description: """
                \(unopened.count) of \(rootKeys.count) root access keys do not open under \(keySource): give the master \
                key the server used (MARTLET_MASTER_KEY, or \(URL(fileURLWithPath: indexPath).deletingLastPathComponent().path)/master.key)
                """)
        }
    }

    /// Renames the index and whatever SQLite left beside it, so no server opens it again in this folder.
    static func retire(indexPath: String, as retiredPath: String) throws {
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: indexPath + suffix) {
            try FileManager.default.moveItem(atPath: indexPath + suffix, toPath: retiredPath + suffix)
        }
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? " " + self : String(repeating: " ", count: width - count) + self
    }
}
