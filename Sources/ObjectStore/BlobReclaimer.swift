import Synchronization

/// Deletes freed blobs, but not while a reader is about to read them.
///
/// Readers open an object's segments lazily (a 10,000-part object cannot hold 10,000 files open), so a
/// blob freed by a concurrent overwrite must survive until the reader that started before the overwrite is
/// done. A reader pins the blobs of the record it read; freeing a pinned blob is deferred to the last unpin.
///
/// A pin taken after the record was read could come too late, so every free bumps a generation counter: a
/// reader that sees the counter unchanged between reading the record and pinning knows none of its blobs was
/// freed in between, and otherwise reads the record again (see ``Storage/openObject(bucket:key:)``).
final class BlobReclaimer: Sendable {
    private struct State {
        var pins: [BlobID: Int] = [:]
        var deferred: Set<BlobID> = []
        var generation: UInt64 = 0
    }

    private let state = Mutex(State())
    private let blobs: any BlobStore

    init(blobs: any BlobStore) {
        self.blobs = blobs
    }

    /// Counts every free decision; read it before reading a record, compare after pinning.
    var generation: UInt64 { state.withLock { $0.generation } }

    /// Deletes blobs no record refers to any more, now or when their last reader unpins them.
    func free(_ ids: [BlobID]) async {
        guard !ids.isEmpty else { return }
        let now: [BlobID] = state.withLock { state in
            state.generation &+= 1
            var now: [BlobID] = []
            for id in ids {
                if state.pins[id] != nil { state.deferred.insert(id) } else { now.append(id) }
            }
            return now
        }
        for id in now { try? await blobs.delete(id) }
    }

    func isPinned(_ id: BlobID) -> Bool {
        state.withLock { $0.pins[id] != nil }
    }

    /// Keeps these blobs from being deleted until ``unpin(_:)``; returns the generation at pinning.
    func pin(_ ids: [BlobID]) -> UInt64 {
        state.withLock { state in
            for id in ids { state.pins[id, default: 0] += 1 }
            return state.generation
        }
    }

    func unpin(_ ids: [BlobID]) async {
        let due: [BlobID] = state.withLock { state in
            var due: [BlobID] = []
            for id in ids {
                guard let count = state.pins[id] else { continue }
                if count > 1 {
                    state.pins[id] = count - 1
                } else {
                    state.pins[id] = nil
                    if state.deferred.remove(id) != nil { due.append(id) }
                }
            }
            return due
        }
        for id in due { try? await blobs.delete(id) }
    }
}
