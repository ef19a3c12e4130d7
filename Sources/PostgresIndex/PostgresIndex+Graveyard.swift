import Foundation
import NIOCore
import ObjectStore
import PostgresNIO

/// Freed blobs wait in `blob_graveyard` for a grace period before their files are deleted: readers pin blobs only in
/// their own process, and a node may be streaming a blob another node's overwrite just freed.
extension PostgresIndex {
    /// Records blobs no row refers to any more; they are deleted once ``buriedBlobs(freedBefore:limit:)`` lists them.
    public func bury(_ ids: [BlobID]) async throws {
        guard !ids.isEmpty else { return }
        let names = ids.map(\.rawValue)
        try await autocommit { session in
            try await session.execute("""
                INSERT INTO blob_graveyard (blob_id) SELECT unnest(\(names)::text[]) ON CONFLICT DO NOTHING
                """)
        }
    }

    /// Blobs freed more than `grace` ago (by the database's clock), oldest first, that no row has come to refer to
    /// again meanwhile.
    public func buriedBlobs(freedBefore grace: Duration, limit: Int) async throws -> [BlobID] {
        let seconds = Double(grace.components.seconds)
        return try await autocommit { session in
            try await session.rows("""
                SELECT blob_id FROM blob_graveyard
                WHERE freed_at < now() - make_interval(secs => \(seconds))
                    AND NOT EXISTS (SELECT 1 FROM blob_refs WHERE blob_refs.blob_id = blob_graveyard.blob_id)
                ORDER BY freed_at LIMIT \(limit)
                """).map { BlobID(try $0[0].decode(String.self)) }
        }
    }

    /// Forgets graveyard entries whose files are gone.
    public func forgetBuried(_ ids: [BlobID]) async throws {
        guard !ids.isEmpty else { return }
        let names = ids.map(\.rawValue)
        try await autocommit { session in
            try await session.execute("DELETE FROM blob_graveyard WHERE blob_id = ANY(\(names)::text[])")
        }
    }

    /// Whether a blob file must stay: a row refers to it, or it waits out its grace period.
    public func isBlobRetained(_ id: BlobID) async throws -> Bool {
        try await autocommit { session in
            try await session.row("""
                SELECT 1 WHERE EXISTS (SELECT 1 FROM blob_refs WHERE blob_id = \(id.rawValue))
                    OR EXISTS (SELECT 1 FROM blob_graveyard WHERE blob_id = \(id.rawValue))
                """) != nil
        }
    }
}

/// A blob store whose deletions wait in the index's graveyard (see ``PostgresIndex/bury(_:)``); everything else goes
/// to the store it wraps.
public struct GraveyardBlobStore: BlobStore {
    public let files: any BlobStore
    let index: PostgresIndex

    public init(files: any BlobStore, index: PostgresIndex) {
        self.files = files
        self.index = index
    }

    public func makeWriter() async throws -> any BlobWriter { try await files.makeWriter() }

    public func openReader(_ id: BlobID) async throws -> any BlobReader { try await files.openReader(id) }

    /// Records the blob for deletion after the grace period. If the index cannot be reached the file stays, and the
    /// orphan collection deletes it later (nothing refers to it).
    public func delete(_ id: BlobID) async throws {
        try await index.bury([id])
    }
}

extension PostgresIndex {
    /// A cluster-wide setting, recorded as `value` by the first node that asks.
    public func clusterSetting(_ name: String, defaultingTo value: String) async throws -> String {
        try await autocommit { session in
            try await session.execute("INSERT INTO cluster_settings (name, value) VALUES (\(name), \(value)) ON CONFLICT DO NOTHING")
            return try await session.value(String.self, "SELECT value FROM cluster_settings WHERE name = \(name)") ?? value
        }
    }
}
