import Foundation
import LocalStore
import Logging
import NIOPosix
import ObjectStore
import PostgresIndex
import S3API
import ServiceLifecycle

/// Where a server keeps its index and bytes: SQLite and blob files in its own data folder (one node, the default), or
/// a PostgreSQL database shared by several nodes over one shared data folder (`--index postgres://…`).
struct ServerBackend {
    let storage: Storage
    let identities: any IdentityIndex
    let kmsKeys: any KMSKeyIndex
    let notifications: any NotificationIndex
    let coordinator: any ClusterCoordinator
    /// What must run for as long as the server does, before anything else (the database pool, the cluster's feed).
    let services: [any Service]
    /// Background work to run once per cluster (orphaned and freed blobs).
    let collector: any Service
    /// Who this node is, in cluster mode.
    let nodeID: String?
    let describe: String
    private let lock: DataFolderLock

    /// The embedded store: `DATA/index.sqlite`, `DATA/blobs`, one server per folder.
    static func embedded(data: String, threads: NIOThreadPool, startedAt: Date, logger: Logger) throws -> ServerBackend {
        let local = try LocalStorage.open(directory: data, threadPool: threads)
        // Held until the process ends: one server per data folder, and no offline key rotation under it.
        let lock = try DataFolderLock(dataDirectory: data, purpose: "stop it before starting another on the same folder")
        let storage = Storage(index: local.index, blobs: local.blobs)
        return ServerBackend(
            storage: storage, identities: local.index, kmsKeys: local.index, notifications: local.index,
            coordinator: SingleNodeCoordinator(), services: [],
            collector: OrphanSweep(local: local, storage: storage, startedAt: startedAt, logger: logger),
            nodeID: nil, describe: "data folder: \(data)", lock: lock)
    }

    /// One node of several: the index in PostgreSQL at `url`, the bytes in `data` (a folder every node mounts at the
    /// same path), this node's uploads in flight in `tmp/nodes/NODE`.
    static func cluster(
        url: String, data: String, nodeID: String, address: String, masterKey: MasterKey, blobGrace: Duration,
        threads: NIOThreadPool, logger: Logger
    ) async throws -> (ServerBackend, PostgresIndex) {
        guard Self.isValidNodeID(nodeID) else {
            throw AdminFailure(description: "--node-id must be 1 to 64 letters, digits, '.', '_' or '-'")
        }
        try ClusterFolder.claim(data: data, url: url)
        let lock = try DataFolderLock(
            dataDirectory: data, file: "nodes/\(nodeID).lock",
            purpose: "a node with id \(nodeID) already runs on this folder; give each node its own --node-id")
        let files = try FileBlobStore(directory: data, threadPool: threads, temporaryFolder: "tmp/nodes/\(nodeID)")
        let removed = try files.removeTemporaryFiles()
        if removed > 0 { logger.notice("removed interrupted uploads", metadata: ["count": "\(removed)", "node": "\(nodeID)"]) }
        let index = try PostgresIndex(url: url, nodeID: nodeID, logger: logger)
        return (ServerBackend(
            storage: Storage(index: index, blobs: GraveyardBlobStore(files: files, index: index)),
            identities: index, kmsKeys: index, notifications: index,
            coordinator: PostgresCluster(index: index, nodeID: nodeID, address: address, version: Self.version),
            services: [],
            collector: BlobCollector(index: index, files: files, grace: blobGrace, logger: logger),
            nodeID: nodeID, describe: "index: \(try PostgresURLDescription(url)), data folder: \(data), node: \(nodeID)",
            lock: lock), index)
    }

    static let version = "0.1.0-dev"

    static func isValidNodeID(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count)
            && id.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: ".")
                    || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            }
            && id != "." && id != ".."
    }

    /// Keeps the lock file open until the server is done with the folder.
    func hold() { withExtendedLifetime(lock) {} }
}

/// An index URL as logs may show it: never its password.
struct PostgresURLDescription: CustomStringConvertible {
    let description: String

    init(_ url: String) throws {
        guard var components = URLComponents(string: url) else { throw AdminFailure(description: "the index URL does not parse") }
        if components.password != nil { components.password = "****" }
        description = components.string ?? "postgres://…"
    }
}

/// Runs a once-per-cluster service only on the node that holds its lease.
struct LeasedService: Service {
    let lease: String
    let coordinator: any ClusterCoordinator
    let service: any Service

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await coordinator.whileHolding(lease) { try await service.run() }
            }
        } catch is CancellationError {
            // Shutting down (whether waiting for the lease or working under it) is a normal end, not a failure that
            // would make the service group stop the server with an error.
        }
    }
}

/// In cluster mode, deletes the files of blobs freed longer ago than the grace period (another node may still have
/// been reading them), and blob files no row refers to that are older than the grace period (a node died between
/// writing a blob and recording it). Runs on one node at a time, every minute.
struct BlobCollector: Service {
    let index: PostgresIndex
    let files: FileBlobStore
    let grace: Duration
    let logger: Logger

    func run() async throws {
        var lastOrphanSweep: ContinuousClock.Instant? = nil
        while !Task.isCancelled {
            do {
                var deleted = 0
                while true {
                    let due = try await index.buriedBlobs(freedBefore: grace, limit: 500)
                    if due.isEmpty { break }
                    for id in due { try await files.delete(id) }
                    try await index.forgetBuried(due)
                    deleted += due.count
                }
                if deleted > 0 { logger.info("deleted \(deleted) freed blob(s) past their grace period") }
                if lastOrphanSweep.map({ $0.duration(to: .now) > .seconds(3600) }) ?? true {
                    let cutoff = Date().addingTimeInterval(-Double(grace.components.seconds))
                    let removed = try await files.removeOrphans(olderThan: cutoff) { try await index.isBlobRetained($0) }
                    if removed > 0 { logger.notice("removed \(removed) orphaned blob(s)") }
                    lastOrphanSweep = .now
                }
            } catch is CancellationError {
                return
            } catch {
                logger.error("blob collection failed: \(error)")
            }
            try await Task.sleep(for: .seconds(60))
        }
    }
}

extension ServerCommand {
    /// The host name and port: stable across restarts of the same node, so it clears its own interrupted uploads.
    static func defaultNodeID(port: Int) -> String {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "node"
        let cleaned = String(host.unicodeScalars.map { scalar -> Character in
            let allowed = scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || scalar == "-" || scalar == "_")
            return allowed ? Character(scalar) : "-"
        }.prefix(50))
        return (cleaned.isEmpty ? "node" : cleaned) + "-\(port)"
    }
}

/// Every node must hold the master key the cluster's secrets are sealed under. The first node records its key's
/// fingerprint in the database; a node whose keys (current or, during a rotation, previous) do not include it refuses
/// to start, before it could seal a secret no other node can open.
enum ClusterKeyCheck {
    static func verify(masterKey: MasterKey, index: PostgresIndex) async throws {
        let recorded = try await index.clusterSetting("master-key-fingerprint", defaultingTo: masterKey.fingerprintText)
        guard masterKey.recognizes(fingerprintText: recorded) else {
            throw AdminFailure(description: """
                this node's master key is not the cluster's: every node must use the same MARTLET_MASTER_KEY, or the \
                master.key file of the shared data folder
                """)
        }
    }
}

/// A data folder belongs either to one node with its SQLite index or to the nodes of one PostgreSQL index, never both:
/// each side would take the other's blobs for orphans.
enum ClusterFolder {
    static func claim(data: String, url: String) throws {
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        if FileManager.default.fileExists(atPath: data + "/index.sqlite") {
            throw AdminFailure(description: """
                \(data) holds a single server's SQLite index (index.sqlite): its objects are not in the PostgreSQL \
                index, and cluster nodes would collect their blobs as orphans. Copy the index first with \
                `martlet admin migrate-index`, or give the nodes an empty folder
                """)
        }
        let marker = data + "/" + SQLiteIndex.clusterMarker
        if !FileManager.default.fileExists(atPath: marker) {
            let text = "This folder is shared by Martlet nodes whose index is \(try PostgresURLDescription(url)).\n"
            FileManager.default.createFile(atPath: marker, contents: Data(text.utf8))
        }
    }
}
