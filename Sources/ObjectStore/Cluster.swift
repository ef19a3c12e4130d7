/// A change one node committed that other nodes' caches must forget.
public enum ClusterChange: Sendable, Equatable {
    /// A bucket was created, deleted, or had a setting changed (policy, ACL, ownership, public access block, CORS,
    /// website, encryption, lifecycle, notification, versioning, object lock, tags).
    case bucket(String)
    /// An account's identity rows changed (the account, its users, keys or policies).
    case identity(accountID: String)
    /// A key of the key service changed (created, enabled, disabled, policy, material re-sealed).
    case kmsKey(String)
    /// The feed may have missed changes (its connection dropped): forget everything.
    case everything
}

/// A change another node committed, with its place in the cluster's order of changes.
public struct ClusterNotice: Sendable, Equatable {
    public var change: ClusterChange
    /// The cluster's change counter once the change committed: acknowledging it (``ClusterCoordinator/applied(through:)``)
    /// tells writers this node has forgotten everything up to it.
    public var version: Int64

    public init(_ change: ClusterChange, version: Int64) {
        self.change = change
        self.version = version
    }
}

/// What must happen once per cluster rather than once per node, behind one seam: work that only one node may do at a
/// time (lifecycle, event delivery, orphan and blob collection), and the changes other nodes made. A single process
/// is a cluster of one (``SingleNodeCoordinator``); several nodes over one database coordinate through it.
public protocol ClusterCoordinator: Sendable {
    /// Runs `body` while this node holds the lease named `lease`: waits until it gets the lease, cancels `body` if it
    /// loses it, and starts over. Returns when the calling task is cancelled, or when `body` returns normally.
    func whileHolding(_ lease: String, _ body: @escaping @Sendable () async throws -> Void) async throws

    /// Changes other nodes commit, in the order they commit, for this node's caches; ends when the coordinator stops
    /// (at once for a cluster of one, where nothing else changes anything).
    func changes() -> AsyncStream<ClusterNotice>

    /// Records that this node's caches no longer hold anything changed up to `version`: a node that changes a cached
    /// setting waits for every live node to get there before it answers, so the next request anywhere sees the change.
    func applied(through version: Int64) async
}

/// One process alone: it always holds every lease, and no other node changes anything.
public struct SingleNodeCoordinator: ClusterCoordinator {
    public init() {}

    public func whileHolding(_ lease: String, _ body: @escaping @Sendable () async throws -> Void) async throws {
        try await body()
    }

    public func changes() -> AsyncStream<ClusterNotice> {
        AsyncStream { _ in }
    }

    public func applied(through version: Int64) async {}
}
