import GRDB
import Synchronization

/// Index writes that arrive while another commit is in progress wait for it, and then commit together: one
/// transaction and one fsync of the WAL for all of them, instead of one each. Each write runs in a savepoint of
/// its own, so one that throws rolls back alone and reports its own error; the others are committed. A write
/// returns only after the commit that holds it is on disk, so durability is unchanged: concurrent PUTs share
/// their fsyncs, they never skip them.
final class GroupCommit: Sendable {
    private struct State {
        var pending: [any PendingWrite] = []
        var draining = false
    }

    private let database: DatabasePool
    private let state = Mutex(State())

    init(database: DatabasePool) {
        self.database = database
    }

    /// Runs `body` in the next batch and returns its result once the batch's commit is durable.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let write = Write(body: body, continuation: continuation)
            let startsDrain = state.withLock { state in
                state.pending.append(write)
                if state.draining { return false }
                state.draining = true
                return true
            }
            if startsDrain {
                database.asyncWriteWithoutTransaction { db in self.drain(db) }
            }
        }
    }

    /// Commits batches until no write is waiting; runs on the database's writer queue.
    private func drain(_ db: Database) {
        while true {
            let batch = state.withLock { state in
                let batch = state.pending
                state.pending.removeAll(keepingCapacity: true)
                if batch.isEmpty { state.draining = false }
                return batch
            }
            if batch.isEmpty { return }
            do {
                try db.inTransaction(.immediate) {
                    if batch.count == 1 {
                        // Alone in its transaction, a write needs no savepoint: if it throws, all is rolled back.
                        return batch[0].runAlone(db) ? .commit : .rollback
                    }
                    for write in batch { write.run(db) }
                    return .commit
                }
                for write in batch { write.finish(commitError: nil) }
            } catch {
                // The transaction did not commit (a failed COMMIT, or SQLite aborted it): nothing in it is on
                // disk, so every write of the batch fails, whatever its own outcome was.
                for write in batch { write.finish(commitError: error) }
            }
        }
    }
}

private protocol PendingWrite: Sendable {
    /// Runs the write in a savepoint of its own, keeping its outcome for ``finish(commitError:)``.
    func run(_ db: Database)
    /// Runs the write directly in the transaction; false if it threw (the transaction must roll back).
    func runAlone(_ db: Database) -> Bool
    func finish(commitError: (any Error)?)
}

private final class Write<T: Sendable>: PendingWrite, @unchecked Sendable {
    // Touched only on the writer queue, then handed to the continuation once.
    private let body: @Sendable (Database) throws -> T
    private let continuation: CheckedContinuation<T, any Error>
    private var outcome: Result<T, any Error>?

    init(body: @escaping @Sendable (Database) throws -> T, continuation: CheckedContinuation<T, any Error>) {
        self.body = body
        self.continuation = continuation
    }

    func run(_ db: Database) {
        do {
            var value: T?
            try db.inSavepoint {
                value = try body(db)
                return .commit
            }
            outcome = .success(value!)
        } catch {
            outcome = .failure(error)
        }
    }

    func runAlone(_ db: Database) -> Bool {
        do {
            outcome = .success(try body(db))
            return true
        } catch {
            outcome = .failure(error)
            return false
        }
    }

    func finish(commitError: (any Error)?) {
        if let commitError {
            continuation.resume(throwing: commitError)
        } else {
            continuation.resume(with: outcome ?? .failure(CancellationError()))
        }
    }
}
