import Foundation
import Logging
import ObjectStore
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Several nodes over one PostgreSQL database: leases for the work one node does at a time, the feed of changes
/// other nodes commit, and a heartbeat row per node for `martlet admin cluster status`.
///
/// - Leases are rows of `leases` (name, holder, expiry), taken and renewed by one statement judged by the database's
///   clock, so nodes' clocks do not matter. A holder renews every ``leaseDuration``/5 and stops its work as soon as a
///   renewal fails; a node that dies loses its leases when they expire.
/// - Changes: triggers on the settings tables bump `cluster_version` and `pg_notify` the change in the committing
///   transaction, so a notification arrives only once the change is visible. Each node listens on a connection of
///   its own and polls the version every ``pollInterval`` on it: a version that moved with no notification, or a
///   listening connection lost and made again, makes the node forget every cached setting. Each notification carries
///   the version its change made; once the node has forgotten what it replaced, it records that version as applied
///   in its `nodes` row, and the writer waits for every live node to get there before answering
///   (``PostgresIndex/settle()``). So a change is in force on every node by the time it is acknowledged, and a node
///   that cannot follow drops its caches within ``pollInterval``.
/// - Outage: while the feed's connection is lost (or its poll goes unanswered for ``pollTimeout``), the index fails
///   requests at once with ``StoreError/unavailable(_:)`` (503), and stops once the feed listens again.
public final class PostgresCluster: ClusterCoordinator, Service {
    public let nodeID: String
    let index: PostgresIndex
    /// Unique to this process: a node restarted under the same ID does not inherit its predecessor's leases.
    let holder: String
    let address: String
    let version: String
    public let leaseDuration: Duration
    public let pollInterval: Duration
    /// How long the feed's poll may take before the database counts as unreachable.
    let pollTimeout: Duration = .seconds(2)
    private let subscribers = Mutex<[UUID: AsyncStream<ClusterNotice>.Continuation]>([:])
    /// The newest version this node has applied, written with each heartbeat too in case the row was not there yet.
    private let appliedVersion = Mutex<Int64>(0)

    public init(
        index: PostgresIndex, nodeID: String, address: String, version: String,
        leaseDuration: Duration = .seconds(10), pollInterval: Duration = .seconds(1)
    ) {
        self.index = index
        self.nodeID = nodeID
        self.holder = nodeID + "/" + UUID().uuidString.prefix(8).lowercased()
        self.address = address
        self.version = version
        self.leaseDuration = leaseDuration
        self.pollInterval = pollInterval
    }

    // MARK: Leases

    public func whileHolding(_ lease: String, _ body: @escaping @Sendable () async throws -> Void) async throws {
        let renewal = leaseDuration / 5
        while !Task.isCancelled {
            guard await take(lease) else {
                try await Task.sleep(for: renewal)
                continue
            }
            index.logger.info("lease taken", metadata: ["lease": "\(lease)", "node": "\(nodeID)"])
            let finished: Bool
            do {
                finished = try await withThrowingTaskGroup(of: Bool.self) { group in
                    group.addTask {
                        try await body()
                        return true
                    }
                    group.addTask {
                        while true {
                            try await Task.sleep(for: renewal)
                            if await !self.take(lease) { return false }
                        }
                    }
                    defer { group.cancelAll() }
                    return try await group.next() ?? true
                }
            } catch {
                // Shutting down (cancelled) or the work failed: let the lease go now, so another node need not wait
                // for it to expire.
                await releaseOutsideCancellation(lease)
                throw error
            }
            if finished {
                await releaseOutsideCancellation(lease)
                return
            }
            index.logger.warning("lease lost; its work stopped", metadata: ["lease": "\(lease)", "node": "\(nodeID)"])
        }
        await releaseOutsideCancellation(lease)
    }

    /// Releases from a task of its own: the caller's may be cancelled, and a cancelled task's query would not run.
    private func releaseOutsideCancellation(_ lease: String) async {
        await Task { await self.release(lease) }.value
    }

    /// Takes or renews a lease: true if this process holds it for another ``leaseDuration``. A database that cannot be
    /// reached counts as not holding it.
    func take(_ lease: String) async -> Bool {
        let seconds = Double(leaseDuration.components.seconds) + Double(leaseDuration.components.attoseconds) / 1e18
        do {
            return try await index.autocommit { session in
                try await session.row("""
                    INSERT INTO leases (name, holder, expires_at) VALUES (\(lease), \(self.holder), clock_timestamp() + make_interval(secs => \(seconds)))
                    ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                    WHERE leases.holder = excluded.holder OR leases.expires_at < clock_timestamp()
                    RETURNING holder
                    """) != nil
            }
        } catch {
            index.logger.warning("lease unreachable", metadata: ["lease": "\(lease)", "error": "\(error)"])
            return false
        }
    }

    /// Lets a lease go at once (a node shutting down), so another node need not wait for it to expire.
    func release(_ lease: String) async {
        _ = try? await index.autocommit { session in
            try await session.execute("DELETE FROM leases WHERE name = \(lease) AND holder = \(self.holder)")
        }
    }

    // MARK: Changes

    public func changes() -> AsyncStream<ClusterNotice> {
        let id = UUID()
        let (stream, continuation) = AsyncStream.makeStream(of: ClusterNotice.self, bufferingPolicy: .bufferingNewest(4096))
        continuation.onTermination = { [weak self] _ in _ = self?.subscribers.withLock { $0.removeValue(forKey: id) } }
        subscribers.withLock { $0[id] = continuation }
        return stream
    }

    func publish(_ notice: ClusterNotice) {
        for subscriber in subscribers.withLock({ Array($0.values) }) { subscriber.yield(notice) }
    }

    public func applied(through version: Int64) async {
        let advanced = appliedVersion.withLock { applied in
            guard version > applied else { return false }
            applied = version
            return true
        }
        guard advanced else { return }
        do {
            try await index.autocommit { session in
                try await session.execute("""
                    UPDATE nodes SET applied_version = greatest(coalesce(applied_version, 0), \(version))
                    WHERE id = \(self.nodeID) AND holder_process = \(self.holder)
                    """)
            }
        } catch {
            // Writers wait out their bound meanwhile; the next heartbeat records it.
            index.logger.warning("could not record the change version applied", metadata: ["error": "\(error)"])
        }
    }

    /// A notification's payload, `VERSION:KIND:NAME`; nil for one this build does not know.
    static func notice(from payload: String) -> ClusterNotice? {
        let fields = payload.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard fields.count == 3, let version = Int64(fields[0]) else { return nil }
        let name = String(fields[2])
        switch fields[1] {
        case "bucket": return ClusterNotice(.bucket(name), version: version)
        case "identity": return ClusterNotice(.identity(accountID: name), version: version)
        case "kms": return ClusterNotice(.kmsKey(name), version: version)
        default: return ClusterNotice(.everything, version: version)
        }
    }

    /// Listens for changes on a connection of its own, polling the version on it; on any failure forgets everything
    /// and listens again.
    private func followChanges() async {
        while !Task.isCancelled {
            do {
                try await index.client.withConnection { connection in
                    let session = PostgresIndex.Session(connection: connection, logger: self.index.logger)
                    try await connection.listen(on: "martlet_changes") { notifications in
                        // Anything committed before LISTEN took effect was not notified.
                        let start = try await self.clusterVersion(session)
                        self.index.outage.set(false)
                        let heard = HeardVersion(start)
                        self.publish(ClusterNotice(.everything, version: start))
                        try await withThrowingTaskGroup(of: Void.self) { group in
                            group.addTask {
                                for try await notification in notifications {
                                    if notification.payload == "events:" {
                                        self.index.eventSignal.notify()
                                        continue
                                    }
                                    guard let notice = Self.notice(from: notification.payload) else { continue }
                                    // Every notice is passed on, even one at or below a version already heard:
                                    // forgetting is idempotent, and a transaction's several notices share no order.
                                    _ = heard.advance(to: notice.version)
                                    self.publish(notice)
                                }
                                throw StoreError.ioFailure("index: the change feed ended")
                            }
                            group.addTask {
                                var polled = start
                                while true {
                                    try await Task.sleep(for: self.pollInterval)
                                    // Notifications are delivered before a later query's answer on the same
                                    // connection, so by now every change up to the last poll's version has been
                                    // heard, unless some were lost.
                                    if heard.advance(to: polled) {
                                        self.index.logger.warning("change notifications lost; caches forgotten")
                                        self.publish(ClusterNotice(.everything, version: polled))
                                    }
                                    polled = try await self.clusterVersion(session)
                                }
                            }
                            try await group.next()
                            group.cancelAll()
                        }
                    }
                }
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                // Until the feed is back, requests fail at once rather than wait for a connection that may not come.
                index.outage.set(true)
                index.logger.warning("change feed interrupted; caches forgotten", metadata: ["error": "\(error)"])
                // Forgotten, but not acknowledged: the version this node has caught up with is learnt on reconnecting.
                publish(ClusterNotice(.everything, version: 0))
                try? await Task.sleep(for: pollInterval)
            }
        }
    }

    /// The cluster's change counter, or a failure after ``pollTimeout``: a database behind a broken network may never
    /// answer, and the node must notice.
    private func clusterVersion(_ session: PostgresIndex.Session) async throws -> Int64 {
        try await withThrowingTaskGroup(of: Int64?.self) { group in
            group.addTask { try await session.value(Int64.self, "SELECT version FROM cluster_version WHERE id = 1") ?? 0 }
            group.addTask {
                try await Task.sleep(for: self.pollTimeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let version = try await group.next() ?? nil else {
                throw StoreError.unavailable("index: the database did not answer within \(self.pollTimeout)")
            }
            return version
        }
    }

    // MARK: Heartbeat

    /// Follows changes and keeps this node's row fresh until cancelled or asked to shut down.
    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.followChanges() }
                group.addTask { await self.beat() }
                await group.waitForAll()
            }
        }
        for subscriber in subscribers.withLock({ Array($0.values) }) { subscriber.finish() }
        // No longer serving: writers stop waiting for this node at once rather than until its heartbeat ages out.
        await Task {
            _ = try? await self.index.autocommit { session in
                try await session.execute("""
                    UPDATE nodes SET applied_version = NULL WHERE id = \(self.nodeID) AND holder_process = \(self.holder)
                    """)
            }
        }.value
    }

    private func beat() async {
        while !Task.isCancelled {
            do {
                let applied = appliedVersion.withLock { $0 }
                // A new process starts at its own applied version (0 until it has listened), never its predecessor's.
                try await index.autocommit { session in
                    try await session.execute("""
                        INSERT INTO nodes (id, address, version, started_at, heartbeat_at, holder_process, applied_version)
                        VALUES (\(self.nodeID), \(self.address), \(self.version), now(), now(), \(self.holder), \(applied))
                        ON CONFLICT (id) DO UPDATE SET address = excluded.address, version = excluded.version,
                            heartbeat_at = excluded.heartbeat_at,
                            started_at = CASE WHEN nodes.holder_process = \(self.holder) THEN nodes.started_at ELSE excluded.started_at END,
                            applied_version = CASE WHEN nodes.holder_process = \(self.holder)
                                THEN greatest(nodes.applied_version, excluded.applied_version) ELSE excluded.applied_version END,
                            holder_process = \(self.holder)
                        """)
                }
            } catch {
                index.logger.warning("heartbeat failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: leaseDuration / 5)
        }
    }

    // MARK: Status

    public struct NodeStatus: Sendable {
        public var id: String
        public var address: String
        public var version: String
        public var startedAt: Date
        public var lastHeartbeat: Date
    }

    public struct LeaseStatus: Sendable {
        public var name: String
        public var holder: String
        public var expiresAt: Date
    }

    /// The nodes that have been seen, by last heartbeat, and who holds each lease.
    public static func status(of index: PostgresIndex) async throws -> (nodes: [NodeStatus], leases: [LeaseStatus]) {
        try await index.read { session in
            let nodes = try await session.rows("""
                SELECT id, address, version, extract(epoch FROM started_at)::float8, extract(epoch FROM heartbeat_at)::float8
                FROM nodes ORDER BY heartbeat_at DESC
                """).map { row in
                NodeStatus(
                    id: try row[0].decode(String.self), address: try row[1].decode(String.self),
                    version: try row[2].decode(String.self), startedAt: Date(timeIntervalSince1970: try row[3].decode(Double.self)),
                    lastHeartbeat: Date(timeIntervalSince1970: try row[4].decode(Double.self)))
            }
            let leases = try await session.rows("""
                SELECT name, holder, extract(epoch FROM expires_at)::float8 FROM leases ORDER BY name
                """).map { row in
                LeaseStatus(
                    name: try row[0].decode(String.self), holder: try row[1].decode(String.self),
                    expiresAt: Date(timeIntervalSince1970: try row[2].decode(Double.self)))
            }
            return (nodes, leases)
        }
    }
}

/// The newest change version this node has heard of, by notification or poll.
private final class HeardVersion: Sendable {
    private let value: Mutex<Int64>

    init(_ start: Int64) { value = Mutex(start) }

    /// True if `version` is newer than any heard, and now the newest.
    func advance(to version: Int64) -> Bool {
        value.withLock { heard in
            guard version > heard else { return false }
            heard = version
            return true
        }
    }
}
