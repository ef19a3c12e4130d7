import ArgumentParser
import Foundation
import LocalStore
import NIOPosix
import ObjectStore
import S3API

/// `martlet admin check --data DIR [--repair]`: every record's blobs are there, long enough, and hold the bytes
/// the record's digest says; no blob is left that no record needs. The server must be stopped: a running one
/// has blobs written and not yet indexed, which would look like orphans.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Verify a stopped server's data folder: each object's blobs and digests, and blobs no object needs.",
        discussion: "Exits 1 if it finds a problem. --repair deletes orphaned blobs and interrupted uploads; a damaged object is reported, never changed.")

    @OptionGroup var target: AdminTarget
    @Flag(help: "Delete orphaned blobs (damaged objects are only reported).") var repair = false
    @Option(help: "Objects verified at once.") var parallel = 4

    func run() async throws {
        guard let data = target.data else { throw ValidationError("check works on a stopped server's data folder: give --data.") }
        let lock = try DataFolderLock(dataDirectory: data, purpose: "stop it first: a running server has blobs not yet in the index")
        defer { lock.release() }
        guard FileManager.default.fileExists(atPath: data + "/index.sqlite") else { throw AdminFailure(description: "no data folder at \(data)") }
        let threads = NIOThreadPool(numberOfThreads: max(2, parallel))
        threads.start()
        let local = try LocalStorage.open(directory: data, threadPool: threads)
        let storage = Storage(index: local.index, blobs: local.blobs)
        let keyring = try await KMSCommand.keyring(dataDirectory: data, index: local.index, region: "us-east-1")
        let check = IntegrityCheck(storage: storage, keyring: keyring)
        let totals = try await local.index.storedItemTotals()
        let progress = Progress("checking", unit: "objects", totalItems: totals.items, totalBytes: totals.bytes)
        var problems: [String] = []
        var cursor: StoredItemCursor?
        repeat {
            let (items, next) = try await local.index.storedItems(after: cursor, limit: 256)
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
                        guard let problem = await check.problem(with: item.record) else { return nil }
                        return "damaged: \(Self.name(item)): \(problem)"
                    }
                }
                for await done in group { if let done { found.append(done) } }
                return found
            }
        } while cursor != nil
        progress.finish()
        let index = local.index
        let orphans = try await local.blobs.orphans(olderThan: Date(), remove: repair) { try await index.isBlobReferenced($0) }
        for line in problems.sorted() { print(line) }
        for orphan in orphans {
            print("\(repair ? "removed" : "orphan") blob: \(orphan.blob.rawValue) (\(orphan.size) bytes, no object refers to it)")
        }
        print("checked \(totals.items) objects and parts (\(Progress.bytes(totals.bytes))): \(problems.count) damaged, "
              + "\(orphans.count) orphaned blob(s)\(repair && !orphans.isEmpty ? " removed" : "")")
        if !problems.isEmpty || (!orphans.isEmpty && !repair) { throw ExitCode(1) }
    }

    static func name(_ item: StoredItem) -> String {
        let object = "\(item.record.bucket)/\(item.record.key)"
        if let part = item.part { return "part \(part.number) of upload \(part.uploadID) of \(object)" }
        return object + (item.record.versionID.map { " (version \($0))" } ?? "")
    }
}
