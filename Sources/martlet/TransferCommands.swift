import ArgumentParser
import AsyncHTTPClient
import Digest
import Foundation
import NIOCore
import NIOHTTP1
import S3Auth
import S3Wire

/// The endpoint and credentials import and export talk to: the admin commands' own `--endpoint` (declared once
/// for all of them, so `martlet admin --endpoint URL import ...` parses too).
extension AdminTarget {
    func transfer() throws -> S3Transfer {
        guard let endpoint else { throw ValidationError("import and export talk to a running server: give --endpoint.") }
        let environment = ProcessInfo.processInfo.environment
        guard let accessKey = environment["MARTLET_ACCESS_KEY"] ?? environment["AWS_ACCESS_KEY_ID"],
              let secretKey = environment["MARTLET_SECRET_KEY"] ?? environment["AWS_SECRET_ACCESS_KEY"]
        else { throw ValidationError("set MARTLET_ACCESS_KEY and MARTLET_SECRET_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)") }
        guard let url = URL(string: endpoint), url.host != nil else { throw ValidationError("--endpoint must be a URL") }
        return S3Transfer(endpoint: url, signer: SigV4Signer(accessKey: accessKey, secretKey: secretKey, region: region))
    }
}

/// Runs `work` on each item with at most `limit` at once; the first error stops the rest and is thrown.
func forEachConcurrently<T: Sendable>(_ items: [T], limit: Int, _ work: @escaping @Sendable (T) async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        var running = 0
        for item in items {
            if running >= max(1, limit) {
                try await group.next()
                running -= 1
            }
            running += 1
            group.addTask { try await work(item) }
        }
        try await group.waitForAll()
    }
}

/// `martlet admin import DIR s3://bucket/prefix`.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Copy a local folder into a bucket (files in parallel; large ones in parts).",
        discussion: """
            Resumable: a file whose object is already there with the same size, stored after the file was last \
            changed, is skipped, so running the same import again sends only what is missing or changed.
            """)

    @Argument(help: "The local folder.") var directory: String
    @Argument(help: "Where to, as s3://bucket/prefix.") var destination: String
    @OptionGroup var target: AdminTarget
    @Option(help: "Files sent or received at once.") var parallel = 4
    /// Files above this go in parts of this size.
    static let partSize = 8 << 20

    func run() async throws {
        guard let location = S3Transfer.Location(destination) else { throw ValidationError("the destination is s3://bucket/prefix") }
        let root = URL(fileURLWithPath: directory).standardizedFileURL
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("\(directory) is not a folder")
        }
        let prefix = location.prefix.isEmpty || location.prefix.hasSuffix("/") ? location.prefix : location.prefix + "/"
        let files = try Self.files(under: root)
        let transfer = try target.transfer()
        defer { Task { await transfer.shutdown() } }
        let existing = Dictionary(
            try await transfer.list(bucket: location.bucket, prefix: prefix).map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let pending = files.filter { file in
            guard let there = existing[prefix + file.relative] else { return true }
            return !(there.size == file.size && there.lastModified >= file.modified.addingTimeInterval(-1))
        }
        let skipped = files.count - pending.count
        let progress = Progress("importing", unit: "files", totalItems: pending.count, totalBytes: pending.reduce(0) { $0 + $1.size })
        try await forEachConcurrently(pending, limit: parallel) { file in
            try await Self.upload(file, key: prefix + file.relative, bucket: location.bucket, transfer, progress)
            progress.advance(items: 1, bytes: 0)
        }
        progress.finish()
        print("imported \(pending.count) file(s) into s3://\(location.bucket)/\(prefix), \(skipped) already there")
    }

    struct LocalFile: Sendable {
        var url: URL
        var relative: String
        var size: Int64
        var modified: Date
    }

    /// Regular files under `root`, by relative path (symbolic links are not followed).
    static func files(under root: URL) throws -> [LocalFile] {
        let keys: [URLResourceKey] = [.isRegularFileKey, .fileSizeKey, .contentModificationDateKey]
        guard let walk = FileManager.default.enumerator(at: root, includingPropertiesForKeys: keys) else { return [] }
        var files: [LocalFile] = []
        let base = root.path.hasSuffix("/") ? root.path : root.path + "/"
        for case let url as URL in walk {
            let values = try url.resourceValues(forKeys: Set(keys))
            guard values.isRegularFile == true else { continue }
            let path = url.standardizedFileURL.path
            guard path.hasPrefix(base) else { continue }
            files.append(LocalFile(
                url: url, relative: String(path.dropFirst(base.count)), size: Int64(values.fileSize ?? 0),
                modified: values.contentModificationDate ?? Date()))
        }
        return files.sorted { $0.relative < $1.relative }
    }

    static func contentMD5(_ body: [UInt8]) -> String {
        var digest = MD5()
        body.withUnsafeBytes { digest.update($0) }
        return Data(digest.finalize()).base64EncodedString()
    }

    static func upload(_ file: LocalFile, key: String, bucket: String, _ transfer: S3Transfer, _ progress: Progress) async throws {
        let handle = try FileHandle(forReadingFrom: file.url)
        defer { try? handle.close() }
        if file.size <= Int64(partSize) {
            let body = Array(try handle.readToEnd() ?? Data())
            _ = try await transfer.call(.PUT, bucket: bucket, key: key, headers: [("Content-MD5", Self.contentMD5(body))], body: body)
            progress.advance(items: 0, bytes: Int64(body.count))
            return
        }
        let (_, created) = try await transfer.call(.POST, bucket: bucket, key: key, query: [("uploads", "")])
        guard let uploadID = try XMLReader.parse(created).child("UploadId")?.text else {
            throw AdminFailure(description: "CreateMultipartUpload for \(key) answered no UploadId")
        }
        do {
            var parts: [(Int, String)] = []
            var number = 1
            while let chunk = try handle.read(upToCount: partSize), !chunk.isEmpty {
                let body = Array(chunk)
                let (response, _) = try await transfer.call(
                    .PUT, bucket: bucket, key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)],
                    headers: [("Content-MD5", Self.contentMD5(body))], body: body)
                parts.append((number, response.headers.first(name: "ETag") ?? ""))
                progress.advance(items: 0, bytes: Int64(body.count))
                number += 1
            }
            var xml = XMLWriter()
            xml.element("CompleteMultipartUpload") { x in
                for (number, etag) in parts {
                    x.element("Part") { p in
                        p.element("PartNumber", number)
                        p.element("ETag", etag)
                    }
                }
            }
            _ = try await transfer.call(.POST, bucket: bucket, key: key, query: [("uploadId", uploadID)], body: Array(xml.text.utf8))
        } catch {
            _ = try? await transfer.call(.DELETE, bucket: bucket, key: key, query: [("uploadId", uploadID)])
            throw error
        }
    }
}

/// `martlet admin export s3://bucket/prefix DIR`.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Copy a bucket's objects under a prefix into a local folder (in parallel, streamed to disk).",
        discussion: """
            Resumable: a file already there with the object's size and time is skipped. Each object is written to a \
            temporary file and renamed into place, so an interrupted export leaves no half-written file. Keys that \
            would leave the folder (`..`, an absolute path) are skipped and reported.
            """)

    @Argument(help: "What to copy, as s3://bucket/prefix.") var source: String
    @Argument(help: "The local folder (created if missing).") var directory: String
    @OptionGroup var target: AdminTarget
    @Option(help: "Files sent or received at once.") var parallel = 4

    func run() async throws {
        guard let location = S3Transfer.Location(source) else { throw ValidationError("the source is s3://bucket/prefix") }
        let root = URL(fileURLWithPath: directory).standardizedFileURL
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try Self.removePartials(under: root)
        let transfer = try target.transfer()
        defer { Task { await transfer.shutdown() } }
        let objects = try await transfer.list(bucket: location.bucket, prefix: location.prefix)
        var unsafe: [String] = []
        var wanted: [(S3Transfer.Listed, URL)] = []
        for object in objects {
            guard let path = Self.localPath(for: object.key, prefix: location.prefix, under: root) else {
                unsafe.append(object.key)
                continue
            }
            if object.key.hasSuffix("/") { continue }  // a folder marker
            let attributes = try? FileManager.default.attributesOfItem(atPath: path.path)
            if let size = attributes?[.size] as? NSNumber, size.int64Value == object.size,
               let modified = attributes?[.modificationDate] as? Date, abs(modified.timeIntervalSince(object.lastModified)) < 1 {
                continue
            }
            wanted.append((object, path))
        }
        let progress = Progress("exporting", unit: "files", totalItems: wanted.count, totalBytes: wanted.reduce(0) { $0 + $1.0.size })
        try await forEachConcurrently(wanted, limit: parallel) { object, path in
            try await Self.download(object, to: path, bucket: location.bucket, transfer, progress)
            progress.advance(items: 1, bytes: 0)
        }
        progress.finish()
        for key in unsafe { FileHandle.standardError.write(Data("skipped \(key): it would be written outside the folder\n".utf8)) }
        print("exported \(wanted.count) object(s) to \(root.path), \(objects.count - wanted.count - unsafe.count) already there")
    }

    /// Temporary files an export killed mid-download left behind (only ours, by their name).
    static func removePartials(under root: URL) throws {
        guard let walk = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return }
        for case let url as URL in walk where url.lastPathComponent.hasPrefix(".martlet-partial-") {
            try FileManager.default.removeItem(at: url)
        }
    }

    /// Where a key goes under `root`, or nil if it would leave it.
    static func localPath(for key: String, prefix: String, under root: URL) -> URL? {
        var relative = String(key.dropFirst(prefix.count))
        while relative.hasPrefix("/") { relative.removeFirst() }
        let segments = relative.split(separator: "/", omittingEmptySubsequences: false)
        guard !relative.isEmpty, !segments.contains(where: { $0 == ".." || $0 == "." }), !relative.contains("\0") else { return nil }
        return root.appendingPathComponent(relative)
    }

    static func download(_ object: S3Transfer.Listed, to path: URL, bucket: String, _ transfer: S3Transfer, _ progress: Progress) async throws {
        try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
        let partial = path.deletingLastPathComponent().appendingPathComponent(".martlet-partial-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: partial.path, contents: nil) else {
            throw AdminFailure(description: "cannot write \(partial.path)")
        }
        do {
            let handle = try FileHandle(forWritingTo: partial)
            defer { try? handle.close() }
            let response = try await transfer.request(.GET, bucket: bucket, key: object.key)
            guard response.status.code == 200 else {
                let answer = try await response.body.collect(upTo: 1 << 20)
                throw AdminFailure(description: "GET \(object.key): \(response.status.code) \(RemoteAdminClient.errorText(Data(answer.readableBytesView)))")
            }
            var written: Int64 = 0
            for try await chunk in response.body {
                try handle.write(contentsOf: Data(chunk.readableBytesView))
                written += Int64(chunk.readableBytes)
                progress.advance(items: 0, bytes: Int64(chunk.readableBytes))
            }
            guard written == object.size else { throw AdminFailure(description: "\(object.key): got \(written) of \(object.size) bytes") }
            try handle.synchronize()
            try FileManager.default.setAttributes([.modificationDate: object.lastModified], ofItemAtPath: partial.path)
            if FileManager.default.fileExists(atPath: path.path) { try FileManager.default.removeItem(at: path) }
            try FileManager.default.moveItem(at: partial, to: path)
        } catch {
            try? FileManager.default.removeItem(at: partial)
            throw error
        }
    }
}
