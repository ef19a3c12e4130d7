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

/// What must happen once per cluster rather than once per node, behind one seam: work that only one node may do at a
/// time (lifecycle, event delivery, orphan and blob collection), and the changes other nodes made. A single process
/// is a cluster of one (``SingleNodeCoordinator``); several nodes over one database coordinate through it.
public protocol ClusterCoordinator: Sendable {
    /// Runs `body` while this node holds the lease named `lease`: waits until it gets the lease, cancels `body` if it
    /// loses it, and starts over. Returns when the calling task is cancelled, or when `body` returns normally.
    func whileHolding(_ lease: String, _ body: @escaping @Sendable () async throws -> Void) async throws

    /// Changes other nodes commit, as they commit, for this node's caches; ends when the coordinator stops (at once for
    /// a cluster of one, where nothing else changes anything).
    func changes() -> AsyncStream<ClusterChange>
}

/// One process alone: it always holds every lease, and no other node changes anything.
public struct SingleNodeCoordinator: ClusterCoordinator {
    public init() {}

    public func whileHolding(_ lease: String, _ body: @escaping @Sendable () async throws -> Void) async throws {
        try await body()
    }

    public func changes() -> AsyncStream<ClusterChange> {
        AsyncStream { _ in }
    }
}
