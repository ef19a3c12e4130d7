import ArgumentParser
import Foundation
import LocalStore
import Logging
import ObjectStore
import PostgresIndex
import S3API
import S3Auth

/// What the admin commands work on: a running server (`--endpoint`, its admin API), a single server's data folder
/// (`--data`, its SQLite index), or a cluster (`--index postgres://…`, with `--data` the shared folder where a
/// command needs the master key file or the blobs).
struct AdminTarget: ParsableArguments {
    @Option(help: "A running server's URL, e.g. http://127.0.0.1:9000 (signed with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or MARTLET_ACCESS_KEY/MARTLET_SECRET_KEY).")
    var endpoint: String?

    @Option(help: "A stopped server's data folder, changed directly; with --index, the cluster's shared folder.")
    var data: String?

    @Option(help: "A cluster's index, postgres://USER:PASSWORD@HOST:PORT/DATABASE (or MARTLET_INDEX), changed directly while its nodes run (kms rotate excepted).")
    var index: String?

    @Option(help: "The region the server serves (for signing).")
    var region = "us-east-1"

    /// Neither is fine here (`admin cluster` takes --index of its own); the commands that need one ask in
    /// ``withIndex(for:_:)`` or ``withClient(_:)``.
    func validate() throws {
        if endpoint != nil && (data != nil || index != nil) {
            throw ValidationError("Give --endpoint, or --data and/or --index, not both.")
        }
    }

    /// The cluster's index: --index, else MARTLET_INDEX unless the command talks to a server.
    var indexURL: String? {
        index ?? (endpoint == nil ? ProcessInfo.processInfo.environment["MARTLET_INDEX"] : nil)
    }

    /// Runs `body` on the index the target names: the cluster's PostgreSQL database with --index (its nodes may be
    /// running: each statement is a transaction of its own, and the nodes hear of identity and key changes through
    /// the index's triggers), else the SQLite index of the --data folder. `commands` names the caller in the error
    /// for neither.
    func withIndex<T>(for commands: String, _ body: (any AdminIndex) async throws -> T) async throws -> T {
        if indexURL != nil { return try await withCluster(body) }
        guard let data else {
            throw ValidationError("\(commands) work on a data folder (--data) or a cluster's index (--index postgres://…): give one.")
        }
        let path = URL(fileURLWithPath: data).appendingPathComponent("index.sqlite").path
        guard FileManager.default.fileExists(atPath: path) else {
            if FileManager.default.fileExists(atPath: URL(fileURLWithPath: data).appendingPathComponent(SQLiteIndex.clusterMarker).path) {
                throw AdminFailure(description: "\(data) is a cluster's shared folder, whose index is in PostgreSQL: give the cluster's --index postgres://… too")
            }
            throw AdminFailure(description: "no data folder at \(data)")
        }
        return try await body(try SQLiteIndex(path: path))
    }

    /// Runs `body` on the cluster's PostgreSQL index (--index or MARTLET_INDEX), checking first that --data, if
    /// given, is the cluster's shared folder.
    func withCluster<T>(_ body: (PostgresIndex) async throws -> T) async throws -> T {
        guard let url = indexURL else { throw ValidationError("give the cluster's --index postgres://… (or set MARTLET_INDEX)") }
        if let data { try Self.requireClusterFolder(data) }
        var quiet = Logger(label: "martlet.admin")
        quiet.logLevel = .error
        // Two connections: kms rotate holds one (the start-up lock) while it re-seals through the other.
        let postgres = try PostgresIndex(url: url, maximumConnections: 2, logger: quiet)
        let pool = Task { await postgres.run() }
        defer { pool.cancel() }
        return try await body(postgres)
    }

    /// The master key the index's secrets are sealed under: MARTLET_MASTER_KEY, else the data folder's `master.key`.
    /// A cluster's is never made here (a folder without one is not the cluster's), and must be the one its nodes
    /// recorded, or what this command sealed no node could open.
    func masterKey(for index: any AdminIndex) async throws -> MasterKey {
        let environment = ProcessInfo.processInfo.environment
        guard let postgres = index as? PostgresIndex else {
            guard let data else { throw ValidationError("give the data folder (--data), which holds master.key") }
            return try MasterKey.load(dataDirectory: data)
        }
        let key: MasterKey
        if environment["MARTLET_MASTER_KEY"] != nil {
            key = try MasterKey.load(dataDirectory: data ?? "")
        } else {
            guard let data else {
                throw ValidationError("give the cluster's shared folder (--data), which holds master.key, or set MARTLET_MASTER_KEY as the nodes do")
            }
            guard FileManager.default.fileExists(atPath: URL(fileURLWithPath: data).appendingPathComponent("master.key").path) else {
                throw AdminFailure(description: "\(data) has no master.key: set MARTLET_MASTER_KEY as the nodes do")
            }
            key = try MasterKey.load(dataDirectory: data)
        }
        try await ClusterKeyCheck.verify(masterKey: key, index: postgres)
        return key
    }

    /// Runs `body` with the accounts of the target: a running server's admin API, or the directory of an index.
    func withClient<T>(_ body: (any AdminClient) async throws -> T) async throws -> T {
        if let endpoint {
            let environment = ProcessInfo.processInfo.environment
            guard let accessKey = environment["MARTLET_ACCESS_KEY"] ?? environment["AWS_ACCESS_KEY_ID"],
                  let secretKey = environment["MARTLET_SECRET_KEY"] ?? environment["AWS_SECRET_ACCESS_KEY"],
                  let url = URL(string: endpoint)
            else {
                throw ValidationError("--endpoint needs a URL and the operator's keys in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.")
            }
            return try await body(RemoteAdminClient(endpoint: url, signer: SigV4Signer(accessKey: accessKey, secretKey: secretKey, region: region)))
        }
        guard data != nil || indexURL != nil else {
            throw ValidationError("account commands work on a running server (--endpoint), a data folder (--data) or a cluster's index (--index postgres://…): give one.")
        }
        return try await withIndex(for: "account commands") { index in
            try await body(LocalAdminClient(index: index, masterKey: try await masterKey(for: index)))
        }
    }

    /// A folder given with --index must be the one the nodes share (marked by the first node): a single server's
    /// folder, or a mistyped path, would hold none of the cluster's blobs or its key.
    static func requireClusterFolder(_ data: String) throws {
        let marker = URL(fileURLWithPath: data).appendingPathComponent(SQLiteIndex.clusterMarker).path
        guard FileManager.default.fileExists(atPath: marker) else {
            throw AdminFailure(description: """
                \(data) is not a cluster's shared folder (no \(SQLiteIndex.clusterMarker) file; the first node writes it): \
                give the folder the nodes run with, or leave --index out for a single server's folder
                """)
        }
    }
}

/// Everything an admin command asks of an index, whichever engine holds it.
typealias AdminIndex = StorageIndex & IdentityIndex & KMSKeyIndex & NotificationIndex & StoredItemIndex
