import Foundation
import PostgresIndex
import Testing

/// What became of each of several writers that raced through two nodes' pools on one database.
struct RaceOutcomes: Sendable {
    /// One entry a writer: nil if it succeeded, else the error it got.
    let errors: [String?]

    var winners: Int { errors.filter { $0 == nil }.count }
    /// The distinct errors the losers got, as text.
    var losses: Set<String> { Set(errors.compactMap { $0 }) }
}

/// Runs `attempt` for writers 0..<`writers` at once, the even ones through `first` and the odd ones through `second`
/// (two nodes), and reports how each ended.
func race(
    _ first: PostgresIndex, _ second: PostgresIndex, writers: Int = 8,
    _ attempt: @escaping @Sendable (PostgresIndex, Int) async throws -> Void
) async -> RaceOutcomes {
    let errors = await withTaskGroup(of: String?.self) { group in
        for writer in 0..<writers {
            let node = writer.isMultiple(of: 2) ? first : second
            group.addTask {
                do {
                    try await attempt(node, writer)
                    return nil
                } catch {
                    return String(describing: error)
                }
            }
        }
        return await group.reduce(into: [String?]()) { $0.append($1) }
    }
    return RaceOutcomes(errors: errors)
}
