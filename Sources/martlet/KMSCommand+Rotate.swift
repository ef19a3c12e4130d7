import ArgumentParser
import Foundation
import ObjectStore
import PostgresIndex
import S3API

extension KMSCommand {
    /// `martlet admin kms rotate`: a new master key, and everything the old one sealed sealed again under it. Never
    /// while a server runs on what it re-seals: a running server (or node) would go on sealing under the old key, and
    /// could not open what was re-sealed under the new one.
    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace the master key, re-sealing what it sealed (no object is rewritten). The server (every node of a cluster) must be stopped.",
            discussion: """
                A single server's folder: --data DIR. A cluster: --index postgres://… --data SHARED; it refuses while any \
                node has sent a heartbeat in the last 30 s, keeps nodes from starting while it runs, and records the new \
                key as the cluster's, so nodes start afterwards only with it (master.key, or MARTLET_MASTER_KEY=NEW).
                """)
        @OptionGroup var target: AdminTarget

        /// A node that sent a heartbeat this recently may be running (nodes send one every 2 s; a stopped node's row
        /// stays, with its last one).
        static let runningWindow: Duration = .seconds(30)

        func run() async throws {
            guard let data = target.data else {
                throw ValidationError("rotate re-seals what a data folder holds: give --data (with --index, the cluster's shared folder).")
            }
            guard target.indexURL != nil else {
                return try await target.withIndex(for: "rotate") { index in
                    let lock = try DataFolderLock(dataDirectory: data, purpose: "stop it first: a running server keeps sealing under the old key")
                    defer { lock.release() }
                    try await Self.rotate(data: data, index: index)
                }
            }
            let target = target
            try await target.withCluster { postgres in
                // The key in hand must be the cluster's before anything is written under a new one.
                _ = try await target.masterKey(for: postgres)
                try await PostgresCluster.whileNoNodeStarts(postgres) {
                    try await Self.refuseIfNodesRun(postgres, "stop every node first: a running node keeps sealing under the old key")
                    try await Self.rotate(data: data, index: postgres) { ring in
                        try await postgres.setClusterSetting("master-key-fingerprint", to: ring.fingerprintText)
                    }
                    // A node that was past its start-up checks, but not yet beating, when the lock was taken.
                    try await Self.refuseIfNodesRun(postgres, "it started during the rotation: restart it with the new key")
                }
            }
        }

        /// Starts a rotation (or resumes one cut short), calls `record` with the ring once the new key is in the key
        /// file and before anything is sealed under it, re-seals, and drops the old key from the key file.
        static func rotate(
            data: String, index: any IdentityIndex & KMSKeyIndex, record: (MasterKey) async throws -> Void = { _ in }
        ) async throws {
            let ring = try MasterKeyRotation.begin(dataDirectory: data)
            try await record(ring)
            let report = try await MasterKeyRotation.reseal(ring: ring, identities: index, keys: index, blobFiles: blobFiles(in: data))
            if ProcessInfo.processInfo.environment["MARTLET_MASTER_KEY"] == nil {
                try MasterKeyRotation.finish(ring: ring, dataDirectory: data)
                print("rotated the master key in \(data)/master.key")
            } else {
                print("re-sealed under the first key of MARTLET_MASTER_KEY; the others can be removed from it now")
            }
            print("re-sealed: \(report.accessKeys) access key secrets, \(report.kmsKeys) KMS keys, \(report.blobs) SSE-S3 blob envelopes")
        }

        static func refuseIfNodesRun(_ postgres: PostgresIndex, _ advice: String) async throws {
            let running = try await PostgresCluster.nodes(of: postgres, beatingWithin: runningWindow)
            guard !running.isEmpty else { return }
            let names = running.map { "\($0.node.id) at \($0.node.address), last heartbeat \(String(format: "%.1f", $0.secondsSinceHeartbeat)) s ago" }
            throw AdminFailure(description: """
                node(s) of this cluster may be running (a heartbeat in the last \(runningWindow.components.seconds) s): \
                \(names.joined(separator: "; ")). \(advice) (a stopped node counts as running until \
                \(runningWindow.components.seconds) s after its last heartbeat)
                """)
        }

        static func blobFiles(in data: String) -> [String] {
            let root = URL(fileURLWithPath: data).appendingPathComponent("blobs")
            guard let walk = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
            return walk.compactMap { item in
                guard let url = item as? URL, (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { return nil }
                return url.path
            }
        }
    }
}
