import Foundation
import GRDB
import Testing

@testable import LocalStore

@Suite("GroupCommit")
struct GroupCommitTests {
    struct Refused: Error, Equatable {
        let value: Int
    }

    @Test("commits concurrent writes together; a write that throws rolls back alone and gets its own error")
    func savepointPerWrite() async throws {
        try await withTemporaryDirectory { directory in
            let database = try DatabasePool(path: directory + "/group.sqlite")
            try await database.write { db in try db.execute(sql: "CREATE TABLE t (x INTEGER NOT NULL)") }
            let group = GroupCommit(database: database)
            let outcomes = await withTaskGroup(of: (Int, Result<Int, Refused>).self) { tasks in
                for value in 0..<64 {
                    tasks.addTask {
                        do {
                            let written = try await group.write { db in
                                try db.execute(sql: "INSERT INTO t (x) VALUES (?)", arguments: [value])
                                if value % 3 == 0 { throw Refused(value: value) }
                                return value
                            }
                            return (value, .success(written))
                        } catch let refused as Refused {
                            return (value, .failure(refused))
                        } catch {
                            Issue.record("unexpected error \(error)")
                            return (value, .failure(Refused(value: -1)))
                        }
                    }
                }
                var outcomes: [Int: Result<Int, Refused>] = [:]
                for await (value, outcome) in tasks { outcomes[value] = outcome }
                return outcomes
            }
            for value in 0..<64 {
                #expect(outcomes[value] == (value % 3 == 0 ? .failure(Refused(value: value)) : .success(value)))
            }
            let stored = try await database.read { db in try Int.fetchAll(db, sql: "SELECT x FROM t ORDER BY x") }
            #expect(stored == (0..<64).filter { $0 % 3 != 0 })
            #expect(try await database.writeWithoutTransaction { db in db.isInsideTransaction } == false)
        }
    }

    @Test("a write after an idle spell starts a new batch, and alone it commits or rolls back whole")
    func drainsAgain() async throws {
        try await withTemporaryDirectory { directory in
            let database = try DatabasePool(path: directory + "/group.sqlite")
            let group = GroupCommit(database: database)
            try await group.write { db in try db.execute(sql: "CREATE TABLE t (x INTEGER NOT NULL)") }
            for value in 0..<3 {
                try await group.write { db in try db.execute(sql: "INSERT INTO t (x) VALUES (?)", arguments: [value]) }
            }
            #expect(try await database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") } == 3)
            // Alone in its batch, a write that throws is rolled back with the whole transaction.
            await #expect(throws: Refused(value: 99)) {
                try await group.write { db in
                    try db.execute(sql: "INSERT INTO t (x) VALUES (99)")
                    throw Refused(value: 99)
                }
            }
            #expect(try await database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") } == 3)
            #expect(try await database.writeWithoutTransaction { db in db.isInsideTransaction } == false)
        }
    }
}
