import Foundation
import PostgresNIO

/// What an offline change to the whole cluster (`martlet admin kms rotate --index`) needs: to know no node runs, to
/// keep nodes from starting meanwhile, and to change the cluster-wide facts they check when they start.
extension PostgresCluster {
    /// The nodes whose last heartbeat is less than `window` old by the database's clock (a node beats every
    /// ``leaseDuration``/5, 2 s by default), with how long ago that was.
    public static func nodes(
        of index: PostgresIndex, beatingWithin window: Duration
    ) async throws -> [(node: NodeStatus, secondsSinceHeartbeat: Double)] {
        let seconds = Double(window.components.seconds)
        return try await index.read { session in
            try await session.rows("""
                SELECT id, address, version, extract(epoch FROM started_at)::float8, extract(epoch FROM heartbeat_at)::float8,
                    extract(epoch FROM now() - heartbeat_at)::float8
                FROM nodes WHERE heartbeat_at > now() - make_interval(secs => \(seconds)) ORDER BY id
                """).map { row in
                (NodeStatus(
                    id: try row[0].decode(String.self), address: try row[1].decode(String.self),
                    version: try row[2].decode(String.self), startedAt: Date(timeIntervalSince1970: try row[3].decode(Double.self)),
                    lastHeartbeat: Date(timeIntervalSince1970: try row[4].decode(Double.self))),
                 max(0, try row[5].decode(Double.self)))
            }
        }
    }

    /// Runs `body` holding the lock a node takes to migrate the schema as it starts, before its master-key check and
    /// its first heartbeat: a node started meanwhile waits for `body` to finish, then checks its key against what
    /// `body` recorded. Throws what `body` throws.
    public static func whileNoNodeStarts<T: Sendable>(
        _ index: PostgresIndex, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let outcome: Result<T, any Error> = try await index.autocommit { session in
            try await session.execute("SELECT pg_advisory_lock(\(PostgresIndex.migrationLock))")
            let outcome: Result<T, any Error>
            do { outcome = .success(try await body()) } catch { outcome = .failure(error) }
            try await session.execute("SELECT pg_advisory_unlock(\(PostgresIndex.migrationLock))")
            return outcome
        }
        return try outcome.get()
    }
}

extension PostgresIndex {
    /// Replaces a cluster-wide setting (see ``clusterSetting(_:defaultingTo:)``).
    public func setClusterSetting(_ name: String, to value: String) async throws {
        try await autocommit { session in
            try await session.execute("""
                INSERT INTO cluster_settings (name, value) VALUES (\(name), \(value))
                ON CONFLICT (name) DO UPDATE SET value = excluded.value
                """)
        }
    }
}
