import ArgumentParser
import Foundation
import LocalStore
import NIOPosix
import ObjectStore
import S3API

/// `martlet admin check --data DIR [--repair]`: every record's blobs are there, long enough, and hold the bytes
/// the record's digest says; no blob is left that no record needs. A single server must be stopped: a running one
/// has blobs written and not yet indexed, which would look like orphans.
///
/// A cluster's folder (`--index URL --data SHARED`) is checked with its nodes running, only reading: a blob younger
/// than `--blob-grace` may be one a node is about to record, so it is not called an orphan, and a record a node
/// replaced while the check read it is not called damaged.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Verify a data folder: each object's blobs and digests, and blobs no object needs (a single server stopped; a cluster's nodes may run).",
        discussion: """
            Exits 1 if it finds a problem. --repair deletes orphaned blobs and interrupted uploads; a damaged object is \
            reported, never changed. With --index (a cluster's shared folder) it only reads: the nodes collect orphaned \
            blobs themselves.
            """)

    @OptionGroup var target: AdminTarget
    @Flag(help: "Delete orphaned blobs (damaged objects are only reported).") var repair = false
    @Option(help: "Objects verified at once.") var parallel = 4
    @Option(help: "With --index: blobs written less than this many seconds ago are not orphans yet, as a node may be about to record them (the nodes' --blob-grace).")
    var blobGrace: Double = 3600

    func run() async throws {
        guard let data = target.data else {
            throw ValidationError("check verifies a data folder's blobs: give --data (with --index, the cluster's shared folder).")
        }
        let cluster = target.indexURL != nil
        if cluster && repair {
            throw ValidationError("--repair does not run on a cluster's folder: its nodes collect orphaned blobs themselves, after --blob-grace")
        }
        guard blobGrace >= 0 else { throw ValidationError("--blob-grace must be 0 or more") }
        let orphanCutoff = Date().addingTimeInterval(cluster ? -blobGrace : 0)
        try await target.withIndex(for: "check") { index in
            let lock = cluster ? nil : try DataFolderLock(dataDirectory: data, purpose: "stop it first: a running server has blobs not yet in the index")
            defer { lock?.release() }
            let threads = NIOThreadPool(numberOfThreads: max(2, parallel))
            threads.start()
            let blobs = try FileBlobStore(directory: data, threadPool: threads)
            // A stopped server's uploads in flight are over; a cluster's (under tmp/nodes/) are its nodes'.
            if !cluster { _ = try blobs.removeTemporaryFiles() }
            try await verify(index: index, blobs: blobs, orphansBefore: orphanCutoff)
        }
    }

    private func verify(index: any AdminIndex, blobs: FileBlobStore, orphansBefore cutoff: Date) async throws {
        let check = IntegrityCheck(storage: Storage(index: index, blobs: blobs), keyring: try await KMSCommand.keyring(target, index: index))
        let totals = try await index.storedItemTotals()
        let progress = Progress("checking", unit: "objects", totalItems: totals.items, totalBytes: totals.bytes)
        var problems: [String] = []
        var cursor: StoredItemCursor?
        repeat {
            let (items, next) = try await index.storedItems(after: cursor, limit: 256)
            cursor = next
            problems += await withTaskGroup(of: String?.self) { group in
                var found: [String] = []
                var running = 0
                for item in items {
                    if running >= max(1, parallel), let done = await group.next() {
                        running -= 1
                        if let done { found.append(done) }
                    }
                    running += 1
                    group.addTask {
                        defer { progress.advance(bytes: item.record.size) }
                        guard let problem = await check.problem(with: item.record),
                              await Self.isStillRecorded(item.record, in: index)
                        else { return nil }
                        return "damaged: \(Self.name(item)): \(problem)"
                    }
                }
                for await done in group { if let done { found.append(done) } }
                return found
            }
        } while cursor != nil
        progress.finish()
        let orphans = try await blobs.orphans(olderThan: cutoff, remove: repair) { try await index.isBlobRetained($0) }
        for line in problems.sorted() { print(line) }
        for orphan in orphans {
            print("\(repair ? "removed" : "orphan") blob: \(orphan.blob.rawValue) (\(orphan.size) bytes, no object refers to it)")
        }
        print("checked \(totals.items) objects and parts (\(Progress.bytes(totals.bytes))): \(problems.count) damaged, "
              + "\(orphans.count) orphaned blob(s)\(repair && !orphans.isEmpty ? " removed" : "")")
        if !problems.isEmpty || (!orphans.isEmpty && !repair) { throw ExitCode(1) }
    }

    /// Whether every blob of a record that looked damaged is still referenced: where nodes run, the record may have
    /// been replaced or deleted after it was listed, and its blobs freed (then read past their grace period). A
    /// record that is still there keeps its blobs referenced; an index that cannot answer counts as still there.
    static func isStillRecorded(_ record: ObjectRecord, in index: any AdminIndex) async -> Bool {
        for segment in record.segments {
            if let referenced = try? await index.isBlobReferenced(segment.blobID), !referenced { return false }
        }
        return true
    }

    static func name(_ item: StoredItem) -> String {
        let object = "\(item.record.bucket)/\(item.record.key)"
        if let part = item.part { return "part \(part.number) of upload \(part.uploadID) of \(object)" }
        return object + (item.record.versionID.map { " (version \($0))" } ?? "")
    }
}
