import Foundation
import ObjectStore
import Synchronization
import Testing

@testable import PostgresIndex

/// Two nodes' coordinators over one database: leases and the change feed.
@Suite("PostgresCluster", .enabled(if: PostgresTestServer.url != nil, "needs MARTLET_TEST_POSTGRES (make test provides it)"))
struct PostgresClusterTests {
    @Test("one node at a time holds a lease; when its holder stops, the other takes over within the lease time")
    func leaseHandover() async throws {
        try await withPostgresIndex { index, url in
            try await withPostgresIndex(url: url) { other in
                let first = PostgresCluster(index: index, nodeID: "a", address: "-", version: "test", leaseDuration: .seconds(1))
                let second = PostgresCluster(index: other, nodeID: "b", address: "-", version: "test", leaseDuration: .seconds(1))
                let workers = Workers()
                let work: @Sendable (String) async throws -> Void = { node in
                    workers.start(node)
                    defer { workers.stop(node) }
                    while true { try await Task.sleep(for: .milliseconds(50)) }
                }
                let holderA = Task { try await first.whileHolding("work") { try await work("a") } }
                try await Task.sleep(for: .milliseconds(500))
                let holderB = Task { try await second.whileHolding("work") { try await work("b") } }
                try await Task.sleep(for: .seconds(2))
                #expect(workers.running == ["a"], "only the first holder works while it renews")
                // A holder that stops without letting go (as a killed node) is replaced once the lease expires.
                holderA.cancel()
                _ = await holderA.result
                // A holder shutting down lets the lease go at once.
                let held = try await index.autocommit { session in
                    try await session.value(Int64.self, "SELECT count(*) FROM leases WHERE holder LIKE 'a/%'")
                }
                #expect(held == 0)
                try await index.autocommit { session in
                    // What kill -9 leaves behind: the lease row, still held, until it expires.
                    try await session.execute("""
                        INSERT INTO leases (name, holder, expires_at) VALUES ('work', 'a/dead', clock_timestamp() + interval '1 second')
                        ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                        """)
                }
                let deadline = ContinuousClock.now + .seconds(4)
                while workers.running != ["b"], ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(workers.running == ["b"], "the second node took over")
                #expect(workers.overlaps == 0, "the two never worked at once")
                holderB.cancel()
                _ = await holderB.result
            }
        }
    }

    @Test("bucket settings changed through one node reach the other's feed in order; object writes announce nothing")
    func changeFeed() async throws {
        try await withPostgresIndex { index, url in
            try await withPostgresIndex(url: url) { other in
                let listener = PostgresCluster(
                    index: other, nodeID: "b", address: "-", version: "test", pollInterval: .milliseconds(200))
                let changes = listener.changes()
                let feed = Task { try await listener.run() }
                defer { feed.cancel() }
                // Each notice is acknowledged as the server's follower would, or every write below would wait out
                // the bound for this node.
                let (acknowledged, continuation) = AsyncStream.makeStream(of: ClusterNotice.self)
                let follower = Task {
                    for await notice in changes {
                        await listener.applied(through: notice.version)
                        continuation.yield(notice)
                    }
                }
                defer { follower.cancel() }
                var iterator = acknowledged.makeAsyncIterator()
                func next() async -> ClusterNotice? { await iterator.next() }
                // Listening starts by forgetting everything: what committed before it was not heard.
                let start = await next()
                #expect(start?.change == .everything)
                try await index.createBucket(ObjectIndexContract.bucket("photos"))
                let created = await next()
                #expect(created?.change == .bucket("photos"))
                try await index.setBucketPolicy("{}", bucket: "photos")
                let policy = await next()
                #expect(policy?.change == .bucket("photos"))
                #expect((policy?.version ?? 0) > (created?.version ?? .max), "versions follow commits")
                // Writing objects announces nothing: caches hold settings, not objects.
                _ = try await index.putObject(ObjectIndexContract.record("photos", "k"), condition: .always)
                try await index.setCORS(nil, bucket: "photos")
                #expect(await next()?.change == .bucket("photos"))
            }
        }
    }

    @Test("a settings write is acknowledged only once every live node has applied it, and waits no longer than its bound")
    func settle() async throws {
        try await withPostgresIndex { index, url in
            try await withPostgresIndex(url: url) { other in
                let listener = PostgresCluster(index: other, nodeID: "b", address: "-", version: "test")
                let changes = listener.changes()
                let feed = Task { try await listener.run() }
                // How long the listening node takes to apply a change; nil: it never does.
                let lag = Mutex<Duration?>(.zero)
                let follower = Task {
                    for await notice in changes {
                        guard let delay = lag.withLock({ $0 }) else { continue }
                        try? await Task.sleep(for: delay)
                        await listener.applied(through: notice.version)
                    }
                }
                defer { follower.cancel() }
                // Once its heartbeat has written its row, the node counts.
                while try await !PostgresCluster.status(of: index).nodes.contains(where: { $0.id == "b" }) {
                    try await Task.sleep(for: .milliseconds(10))
                }
                try await index.createBucket(ObjectIndexContract.bucket("photos"))

                lag.withLock { $0 = .milliseconds(300) }
                let clock = ContinuousClock()
                var began = clock.now
                try await index.setBucketPolicy("{}", bucket: "photos")
                let waited = clock.now - began
                #expect(waited >= .milliseconds(300), "answered after \(waited), before the other node had applied it")
                #expect(waited < PostgresIndex.settleBound)

                // A node that never applies a change holds a write back for the bound, and no longer.
                lag.withLock { $0 = nil }
                began = clock.now
                try await index.setCORS(nil, bucket: "photos")
                let heldBack = clock.now - began
                #expect(heldBack >= PostgresIndex.settleBound - .milliseconds(20))
                #expect(heldBack < PostgresIndex.settleBound + .seconds(1))

                // A node that has stopped serving holds nothing back.
                feed.cancel()
                _ = await feed.result
                began = clock.now
                try await index.setBucketPolicy(nil, bucket: "photos")
                #expect(clock.now - began < .milliseconds(500))
            }
        }
    }
}

/// Who is working now, and how often two were at once.
private final class Workers: Sendable {
    private let state = Mutex<(running: [String], overlaps: Int)>(([], 0))

    var running: [String] { state.withLock { $0.running } }
    var overlaps: Int { state.withLock { $0.overlaps } }

    func start(_ node: String) {
        state.withLock { state in
            if !state.running.isEmpty { state.overlaps += 1 }
            state.running.append(node)
        }
    }

    func stop(_ node: String) {
        state.withLock { state in state.running.removeAll { $0 == node } }
    }
}
