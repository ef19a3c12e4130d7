import Foundation
import ObjectStore

/// Changes to what nodes cache (bucket settings, identities, KMS keys) are acknowledged only once every live node has
/// forgotten what they replace, so the next request through any node sees them.
extension PostgresIndex {
    /// A node is live while its heartbeat (every 2 s, see ``PostgresCluster``) is younger than this; a node killed
    /// without stopping delays settling writes by up to ``settleBound`` until then.
    static let liveNodeWindow = 6

    /// The longest a write waits for other nodes. A node that has not caught up by then has lost its change feed, and
    /// its version poll (every second) makes it forget everything.
    static let settleBound: Duration = .milliseconds(1500)

    /// A write that changes something nodes cache: it commits, then waits (see ``settle()``).
    func writeSetting<T: Sendable>(_ body: @escaping @Sendable (Session) async throws -> T) async throws -> T {
        let value = try await write(body)
        await settle()
        return value
    }

    /// Waits until every other live node has applied the changes committed so far, for at most ``settleBound``.
    /// Never throws: the change has committed, and a database that cannot answer now holds no node back.
    func settle() async {
        let clock = ContinuousClock()
        let deadline = clock.now + Self.settleBound
        var pause = Duration.milliseconds(1)
        while true {
            let lagging: Int64
            do {
                lagging = try await autocommit { session in
                    try await session.value(Int64.self, """
                        SELECT count(*) FROM nodes
                        WHERE id IS DISTINCT FROM \(self.nodeID)
                          AND heartbeat_at > now() - make_interval(secs => \(Self.liveNodeWindow))
                          AND applied_version < (SELECT version FROM cluster_version WHERE id = 1)
                        """) ?? 0
                }
            } catch {
                logger.warning("could not learn whether other nodes applied a change", metadata: ["error": "\(error)"])
                return
            }
            if lagging == 0 { return }
            guard clock.now + pause < deadline else {
                logger.warning("nodes still hold a replaced setting; their version poll will drop it",
                               metadata: ["nodes": "\(lagging)"])
                return
            }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(16))
        }
    }
}
