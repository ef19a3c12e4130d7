import Synchronization

/// Runs async bodies one at a time, in the order they asked.
///
/// The identity directory commits each change to the index and then applies it to its snapshot. Two changes to
/// one key (Inactive, then Active) must reach the snapshot in the order the index committed them, or the snapshot
/// keeps the older state; running index write and snapshot update as one unit, one unit at a time, gives that.
final class SerialChanges: Sendable {
    private struct State {
        var busy = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    init() {}

    func run<T>(_ body: () async throws -> T) async throws -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let proceed = state.withLock { state in
                if state.busy {
                    state.waiting.append(continuation)
                    return false
                }
                state.busy = true
                return true
            }
            if proceed { continuation.resume() }
        }
    }

    /// Hands the turn to the longest waiting body, if any, without letting a newcomer in between.
    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiting.isEmpty {
                state.busy = false
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }
}
