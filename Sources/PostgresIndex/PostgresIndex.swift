import Foundation
import Logging
import NIOCore
import ObjectStore
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// The object index in a PostgreSQL database, shared by any number of stateless nodes.
///
/// The schema mirrors ``SQLiteIndex``'s (see ``PostgresIndex/migrations``), with keys as `bytea` so that the
/// database's order is S3's byte order whatever the database's collation, and the column values encoded by
/// ``IndexColumns`` exactly as SQLite holds them.
///
/// Concurrency: every write is one short transaction at `SERIALIZABLE`, so a check and the write it guards (a
/// conditional PUT, object lock, a Complete racing a part upload) cannot interleave with another node's; a
/// transaction the database aborts to keep that promise (SQLSTATE 40001, or 40P01 for a deadlock) is run again
/// after a jittered pause. Engines that speak PostgreSQL's protocol and report conflicts the same way (the
/// distributed ones) need nothing else. Reads of one statement run on their own; reads of several run in a
/// `REPEATABLE READ READ ONLY` transaction, one snapshot.
public final class PostgresIndex: Sendable {
    let client: PostgresClient
    let logger: Logger
    /// Signalled after a write on this node that recorded notification events commits.
    public let eventSignal = EventSignal()
    /// Set while this node's change feed has lost the database (see ``PostgresCluster``): requests then fail at once
    /// with ``StoreError/unavailable(_:)`` instead of each waiting for the connection pool to give up (15 s).
    let outage = Outage()
    /// The node this index serves, if it serves one. A node applies its own changes to its caches as it makes them
    /// (and may be in the middle of one), so ``settle()`` waits only for the others.
    let nodeID: String?

    /// A client for the database at `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=…]`). Nothing
    /// connects until ``run()`` runs (as a service) and a query asks.
    /// - Throws: ``StoreError/ioFailure(_:)`` for a URL it cannot use.
    /// - Parameter maximumConnections: The pool's size: the most transactions this node runs at once.
    /// - Parameter nodeID: The node this index serves; nil for a tool such as an admin command.
    public init(
        url: String, maximumConnections: Int = 32, nodeID: String? = nil, logger: Logger = Logger(label: "martlet.postgres")
    ) throws {
        var configuration = try PostgresURL(url).configuration()
        configuration.options.maximumConnections = max(maximumConnections, 1)
        configuration.options.minimumConnections = min(2, configuration.options.maximumConnections)
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.logger = logger
        self.nodeID = nodeID
    }

    /// Runs the connection pool until the task is cancelled; queries wait for it.
    public func run() async {
        await client.run()
    }

    // MARK: Transactions

    /// How many times a transaction the database aborted for a conflict is tried in all.
    static let attempts = 24

    /// Runs `body` in a `SERIALIZABLE` transaction, again (with a jittered, growing pause) when the database aborts it
    /// for a serialization failure or a deadlock; anything else rolls it back and is reported as a ``StoreError``.
    func write<T: Sendable>(_ body: @escaping @Sendable (Session) async throws -> T) async throws -> T {
        try await transaction("BEGIN ISOLATION LEVEL SERIALIZABLE", body)
    }

    /// Runs `body`, which only reads, on one snapshot.
    func read<T: Sendable>(_ body: @escaping @Sendable (Session) async throws -> T) async throws -> T {
        try await transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
    }

    /// Runs `body` with a connection of its own outside any transaction (each statement commits alone).
    func autocommit<T: Sendable>(_ body: @escaping @Sendable (Session) async throws -> T) async throws -> T {
        try outage.check()
        do {
            return try await client.withConnection { connection in
                try await body(Session(connection: connection, logger: self.logger))
            }
        } catch {
            throw Self.storeError(error)
        }
    }

    private func transaction<T: Sendable>(
        _ begin: PostgresQuery, _ body: @escaping @Sendable (Session) async throws -> T
    ) async throws -> T {
        try outage.check()
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await client.withConnection { connection in
                    let session = Session(connection: connection, logger: self.logger)
                    try await session.execute(begin)
                    do {
                        let value = try await body(session)
                        try await session.execute("COMMIT")
                        return value
                    } catch {
                        // After a failed COMMIT the transaction is already over; ROLLBACK then only warns.
                        try? await session.execute("ROLLBACK")
                        throw error
                    }
                }
            } catch let error where Self.isConflict(error) && attempt < Self.attempts {
                let ceiling = min(2 << min(attempt, 8), 500)
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...ceiling)))
            } catch {
                throw Self.storeError(error)
            }
        }
    }

    /// SQLSTATE 40001 (serialization_failure) and 40P01 (deadlock_detected): the transaction did nothing and may
    /// simply run again.
    static func isConflict(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError, error.code == .server, let state = error.serverInfo?[.sqlState] else {
            return false
        }
        return state == "40001" || state == "40P01"
    }

    /// Our own errors and cancellation pass through; a full disk (class 53) is insufficient storage; the rest is an
    /// I/O failure, with the server's message but never the query's values.
    static func storeError(_ error: any Error) -> any Error {
        switch error {
        case is StoreError, is IdentityError, is CancellationError: return error
        case let rejection as AssemblyRejection: return rejection.underlying
        case let error as PSQLError:
            let state = error.serverInfo?[.sqlState] ?? ""
            let message = error.serverInfo?[.message] ?? "\(error.code)"
            if state.hasPrefix("53") { return StoreError.insufficientStorage("index: \(state) \(message)") }
            return StoreError.ioFailure("index: \(state) \(message)")
        default:
            return StoreError.ioFailure("index: \(error)")
        }
    }
}

/// An error `assemble` threw inside a Complete, carried through the transaction unchanged.
struct AssemblyRejection: Error {
    let underlying: any Error
}

extension PostgresIndex: Service {}

extension PostgresIndex {
    /// One connection, in a transaction or not, with the few ways the index reads and writes through it.
    struct Session: Sendable {
        let connection: PostgresConnection
        let logger: Logger

        func execute(_ query: PostgresQuery) async throws {
            _ = try await connection.query(query, logger: logger).collect()
        }

        func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
            try await connection.query(query, logger: logger).collect().map { $0.makeRandomAccess() }
        }

        func row(_ query: PostgresQuery) async throws -> PostgresRandomAccessRow? {
            try await rows(query).first
        }

        /// The first column of the first row, or nil when there is no row.
        func value<T: PostgresDecodable>(_ type: T.Type, _ query: PostgresQuery) async throws -> T? {
            guard let row = try await row(query) else { return nil }
            return try row[0].decode(T.self)
        }
    }
}

/// Whether the database is known to be unreachable. Read on every query, so an atomic load and nothing more.
final class Outage: Sendable {
    private let down = Atomic<Bool>(false)

    var isDown: Bool { down.load(ordering: .relaxed) }

    func set(_ isDown: Bool) { down.store(isDown, ordering: .relaxed) }

    func check() throws(StoreError) {
        if isDown { throw StoreError.unavailable("index: the database cannot be reached") }
    }
}
