import Foundation
import ObjectStore
import Testing

@testable import LocalStore

/// Runs `body` with a new SQLite index in a temporary folder.
@discardableResult
func withSQLiteIndex<T>(_ body: (SQLiteIndex, String) async throws -> T) async throws -> T {
    try await withTemporaryDirectory { directory in
        let index = try SQLiteIndex(path: directory + "/index.sqlite")
        defer { try? index.close() }
        return try await body(index, directory)
    }
}

@Suite("SQLiteIndex")
struct SQLiteIndexTests {
    @Test("passes the ObjectIndex contract", arguments: ObjectIndexContract.cases)
    func contract(_ check: ObjectIndexContract.Case) async throws {
        try await withSQLiteIndex { index, _ in try await check.check(index) }
    }

    @Test("passes the NotificationIndex contract", arguments: NotificationIndexContract.cases)
    func notificationContract(_ check: NotificationIndexContract.Case) async throws {
        try await withSQLiteIndex { index, _ in try await check.check(index) }
    }

    struct TimeCase: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let stored: Double
        let expected: Double
    }

    @Test(
        "keeps times to the nearest millisecond",
        arguments: [
            TimeCase(testDescription: "whole milliseconds", stored: 1_700_000_000.123, expected: 1_700_000_000.123),
            TimeCase(testDescription: "a fraction below half", stored: 1_700_000_000.1234, expected: 1_700_000_000.123),
            TimeCase(testDescription: "a fraction above half", stored: 1_700_000_000.1236, expected: 1_700_000_000.124),
            TimeCase(testDescription: "whole seconds", stored: 1_700_000_000, expected: 1_700_000_000),
            TimeCase(testDescription: "before 1970", stored: -1.5, expected: -1.5),
        ])
    func millisecondPrecision(_ time: TimeCase) async throws {
        let (stored, expected) = (time.stored, time.expected)
        try await withSQLiteIndex { index, _ in
            try await index.createBucket(BucketInfo(name: "b", creationDate: Date(timeIntervalSince1970: stored), region: "r"))
            var record = ObjectIndexContract.record("b", "k")
            record.lastModified = Date(timeIntervalSince1970: stored)
            _ = try await index.putObject(record, condition: .always)
            #expect(try await index.object(bucket: "b", key: "k")?.lastModified == Date(timeIntervalSince1970: expected))
            #expect(try await index.bucket(named: "b")?.creationDate == Date(timeIntervalSince1970: expected))
        }
    }

    @Test(
        "plans every shape of scan as a primary-key seek",
        arguments: [
            ("from the start, no end", KeyRange(lower: [], lowerInclusive: true, upper: nil)),
            ("after the empty key, no end", KeyRange(lower: [], lowerInclusive: false, upper: nil)),
            ("inclusive lower, no end", KeyRange(lower: Array("a/".utf8), lowerInclusive: true, upper: nil)),
            ("exclusive lower, no end", KeyRange(lower: Array("a/".utf8), lowerInclusive: false, upper: nil)),
            ("inclusive lower and upper", KeyRange(lower: Array("a/".utf8), lowerInclusive: true, upper: Array("a0".utf8))),
            ("exclusive lower and upper", KeyRange(lower: Array("a/".utf8), lowerInclusive: false, upper: Array("a0".utf8))),
            ("upper only", KeyRange(lower: [], lowerInclusive: true, upper: Array("m".utf8))),
        ])
    func scanIsASeek(_ name: String, range: KeyRange) async throws {
        try await withSQLiteIndex { index, _ in
            let plan = try await index.scanQueryPlan(range: range)
            #expect(plan.count == 1, "\(plan)")
            #expect(plan.allSatisfy { $0.hasPrefix("SEARCH objects USING PRIMARY KEY (bucket=?") }, "\(plan)")
            #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "sorts instead of walking the key order: \(plan)")
        }
    }

    @Test("keeps everything across a close and reopen")
    func reopen() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/index.sqlite"
            let record = ObjectIndexContract.record("b", "k", blob: "x")
            do {
                let index = try SQLiteIndex(path: path)
                try await index.createBucket(ObjectIndexContract.bucket("b"))
                _ = try await index.putObject(record, condition: .always)
                try index.close()
            }
            let reopened = try SQLiteIndex(path: path)
            defer { try? reopened.close() }
            #expect(try await reopened.listBuckets() == [ObjectIndexContract.bucket("b")])
            #expect(try await reopened.object(bucket: "b", key: "k") == record)
            #expect(try await reopened.isBlobReferenced(BlobID("x")))
        }
    }

    @Test("reports calls after close as I/O failures")
    func closed() async throws {
        try await withSQLiteIndex { index, _ in
            try index.close()
            await #expect {
                _ = try await index.listBuckets()
            } throws: { error in
                if case StoreError.ioFailure = error { true } else { false }
            }
        }
    }

    @Test("fails to open a path that cannot be a database")
    func unopenable() async throws {
        try await withTemporaryDirectory { directory in
            #expect {
                _ = try SQLiteIndex(path: directory + "/missing-folder/index.sqlite")
            } throws: { error in
                if case StoreError.ioFailure = error { true } else { false }
            }
        }
    }
}
