import Foundation
import Logging
import NIOCore
import NIOPosix
import ObjectStore
import PostgresNIO
import Testing

@testable import PostgresIndex

/// The PostgreSQL server the test command started (`scripts/with-postgres.sh` exports its URL); the suites below are
/// disabled without one, so a plain `swift test` still runs everything else.
enum PostgresTestServer {
    static let url = ProcessInfo.processInfo.environment["MARTLET_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }

    /// Runs one statement on the server's maintenance database (CREATE/DROP DATABASE cannot run in a transaction).
    static func administer(_ sql: String) async throws {
        let base = try PostgresURL(try baseURL())
        let configuration = PostgresConnection.Configuration(
            host: base.host, port: base.port, username: base.user, password: base.password, database: base.database,
            tls: .disable)
        let connection = try await PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration, id: 1,
            logger: Logger(label: "martlet.test.postgres"))
        do {
            _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Logger(label: "martlet.test.postgres")).collect()
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// The server's URL with another database name.
    static func url(database: String) throws -> String {
        guard var components = URLComponents(string: try baseURL()) else { throw Unusable() }
        components.path = "/" + database
        guard let text = components.string else { throw Unusable() }
        return text
    }

    static func baseURL() throws -> String {
        guard let url else { throw Unusable() }
        return url
    }

    struct Unusable: Error {}

    static let slots = TestSlots(8)
}

/// Runs `body` with a new, migrated index in a database of its own, dropped afterwards.
@discardableResult
func withPostgresIndex<T: Sendable>(
    connections: Int = 4, _ body: @Sendable (PostgresIndex, _ url: String) async throws -> T
) async throws -> T {
    // The tests run in parallel, each with pools of its own: a few at a time keep the server under its connection
    // limit, however many cores run the tests.
    await PostgresTestServer.slots.acquire()
    do {
        let value = try await withDatabase(connections: connections, body)
        await PostgresTestServer.slots.release()
        return value
    } catch {
        await PostgresTestServer.slots.release()
        throw error
    }
}

private func withDatabase<T: Sendable>(
    connections: Int, _ body: @Sendable (PostgresIndex, _ url: String) async throws -> T
) async throws -> T {
    let database = "martlet_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    try await PostgresTestServer.administer("CREATE DATABASE \(database)")
    let url = try PostgresTestServer.url(database: database)
    let result: Result<T, any Error>
    do {
        let value = try await withPostgresIndex(url: url, connections: connections) { index in
            try await index.migrate()
            return try await body(index, url)
        }
        result = .success(value)
    } catch {
        result = .failure(error)
    }
    try await PostgresTestServer.administer("DROP DATABASE \(database) WITH (FORCE)")
    return try result.get()
}

/// Runs `body` with an index on `url` whose connection pool runs for the length of the call.
func withPostgresIndex<T: Sendable>(
    url: String, connections: Int = 4, _ body: @Sendable (PostgresIndex) async throws -> T
) async throws -> T {
    var quiet = Logger(label: "martlet.test.postgres")
    quiet.logLevel = .error
    let index = try PostgresIndex(url: url, maximumConnections: connections, logger: quiet)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await index.run() }
        do {
            let value = try await body(index)
            group.cancelAll()
            return value
        } catch {
            group.cancelAll()
            throw error
        }
    }
}

@Suite("PostgresIndex", .enabled(if: PostgresTestServer.url != nil, "needs MARTLET_TEST_POSTGRES (make test provides it)"))
struct PostgresIndexTests {
    @Test("passes the ObjectIndex contract", arguments: ObjectIndexContract.cases)
    func contract(_ check: ObjectIndexContract.Case) async throws {
        try await withPostgresIndex { index, _ in try await check.check(index) }
    }

    @Test("passes the NotificationIndex contract", arguments: NotificationIndexContract.cases)
    func notificationContract(_ check: NotificationIndexContract.Case) async throws {
        try await withPostgresIndex { index, _ in try await check.check(index) }
    }

    @Test("keeps times to the nearest millisecond, before 1970 too", arguments: [1_700_000_000.123, 1_700_000_000.1236, -1.5])
    func millisecondPrecision(_ stored: Double) async throws {
        try await withPostgresIndex { index, _ in
            let date = Date(timeIntervalSince1970: stored)
            try await index.createBucket(BucketInfo(name: "b", creationDate: date, region: "r"))
            var record = ObjectIndexContract.record("b", "k")
            record.lastModified = date
            _ = try await index.putObject(record, condition: .always)
            let expected = IndexColumns.date(milliseconds: IndexColumns.milliseconds(date))
            #expect(try await index.object(bucket: "b", key: "k")?.lastModified == expected)
            #expect(try await index.bucket(named: "b")?.creationDate == expected)
        }
    }

    @Test("16 writers racing If-None-Match: * on one key through two nodes' pools: exactly one wins")
    func conditionalCreateRace() async throws {
        try await withPostgresIndex(connections: 8) { first, url in
            try await withPostgresIndex(url: url, connections: 8) { second in
                try await first.createBucket(ObjectIndexContract.bucket("b"))
                let outcomes = await withTaskGroup(of: Bool.self) { group in
                    for writer in 0..<16 {
                        let node = writer.isMultiple(of: 2) ? first : second
                        group.addTask {
                            do {
                                _ = try await node.putObject(
                                    ObjectIndexContract.record("b", "k", blob: "blob-\(writer)"), condition: .ifAbsent)
                                return true
                            } catch {
                                return false
                            }
                        }
                    }
                    return await group.reduce(into: [Bool]()) { $0.append($1) }
                }
                #expect(outcomes.filter { $0 }.count == 1)
                let winner = try #require(try await second.object(bucket: "b", key: "k"))
                // Only the winner's blob is referenced: the losers' writes left nothing behind.
                for writer in 0..<16 {
                    let blob = BlobID("blob-\(writer)")
                    #expect(try await first.isBlobReferenced(blob) == (winner.segments.first?.blobID == blob))
                }
            }
        }
    }

    @Test("nodes starting together migrate once; a database migrated by a newer build is refused")
    func migrations() async throws {
        try await withPostgresIndex { index, url in
            // Already migrated by withPostgresIndex: two more nodes at once change nothing and fail nothing.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<2 {
                    group.addTask { try await withPostgresIndex(url: url) { try await $0.migrate() } }
                }
                try await group.waitForAll()
            }
            try await index.createBucket(ObjectIndexContract.bucket("b"))
            try await index.autocommit { session in
                try await session.execute("INSERT INTO martlet_migrations (name) VALUES ('v999-from-the-future')")
            }
            await #expect {
                try await withPostgresIndex(url: url) { try await $0.migrate() }
            } throws: { error in
                if case StoreError.ioFailure(let message) = error { message.contains("newer Martlet") } else { false }
            }
        }
    }

    @Test("plans a listing as a seek in the primary key, in key order, without sorting")
    func scanIsASeek() async throws {
        try await withPostgresIndex { index, _ in
            try await index.createBucket(ObjectIndexContract.bucket("b"))
            let plan = try await index.autocommit { session in
                // An empty table would be read whole whatever the index; ask for the plan a big one gets.
                try await session.execute("SET enable_seqscan = off")
                var query = PostgresQuery(unsafeSQL: "EXPLAIN SELECT \(PostgresIndex.listingColumns) FROM objects WHERE bucket = $1")
                query.binds.append("b")
                PostgresIndex.appendKeyRange(KeyRange(lower: Array("a/".utf8), lowerInclusive: false, upper: Array("a0".utf8)), to: &query)
                query.append(" ORDER BY key LIMIT ", 1000)
                return try await session.rows(query).map { try $0[0].decode(String.self) }.joined(separator: "\n")
            }
            #expect(plan.contains("Index Scan using objects_pkey"), "\(plan)")
            #expect(!plan.contains("Sort"), "\(plan)")
        }
    }
}

/// At most `count` holders at once; the others wait their turn, in order.
actor TestSlots {
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(_ count: Int) { free = count }

    func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty {
            free += 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}
