import Foundation
import ObjectStore
import Testing

extension ObjectIndexContract {
    // MARK: Conditions

    static let conditionCases: [Case] = [
        Case("ifAbsent writes a key that has no record") { index in
            try await index.createBucket(bucket("b"))
            #expect(try await index.putObject(record("b", "k"), condition: .ifAbsent) == nil)
            #expect(try await index.object(bucket: "b", key: "k") != nil)
        },
        Case("ifAbsent refuses a key that has a record, and leaves it") { index in
            try await index.createBucket(bucket("b"))
            _ = try await index.putObject(record("b", "k", etag: "old"), condition: .always)
            await #expect(throws: StoreError.preconditionFailed) {
                _ = try await index.putObject(record("b", "k", etag: "new"), condition: .ifAbsent)
            }
            #expect(try await index.object(bucket: "b", key: "k")?.etag == "old")
        },
        Case("ifAbsent writes again once the key is deleted") { index in
            try await index.createBucket(bucket("b"))
            _ = try await index.putObject(record("b", "k"), condition: .always)
            _ = try await index.deleteObject(bucket: "b", key: "k")
            #expect(try await index.putObject(record("b", "k"), condition: .ifAbsent) == nil)
        },
        Case("ifETagMatches replaces a record with that ETag") { index in
            try await index.createBucket(bucket("b"))
            let old = record("b", "k", etag: "abc")
            _ = try await index.putObject(old, condition: .always)
            #expect(try await index.putObject(record("b", "k", etag: "def"), condition: .ifETagMatches("abc")) == old)
            #expect(try await index.object(bucket: "b", key: "k")?.etag == "def")
        },
        Case("ifETagMatches refuses another ETag, and leaves the record") { index in
            try await index.createBucket(bucket("b"))
            _ = try await index.putObject(record("b", "k", etag: "abc"), condition: .always)
            for wrong in ["abd", "ABC", "\"abc\"", ""] {
                await #expect(throws: StoreError.preconditionFailed) {
                    _ = try await index.putObject(record("b", "k", etag: "new"), condition: .ifETagMatches(wrong))
                }
            }
            #expect(try await index.object(bucket: "b", key: "k")?.etag == "abc")
        },
        Case("ifETagMatches refuses a key that has no record") { index in
            try await index.createBucket(bucket("b"))
            await #expect(throws: StoreError.preconditionFailed) {
                _ = try await index.putObject(record("b", "k"), condition: .ifETagMatches("abc"))
            }
            #expect(try await index.object(bucket: "b", key: "k") == nil)
        },
        Case("of 20 concurrent ifAbsent writers exactly one wins") { index in
            try await index.createBucket(bucket("b"))
            let outcomes = try await withThrowingTaskGroup(of: (writer: Int, won: Bool).self) { group in
                for writer in 0..<20 {
                    group.addTask {
                        do {
                            _ = try await index.putObject(record("b", "lock", etag: "writer-\(writer)"), condition: .ifAbsent)
                            return (writer, true)
                        } catch StoreError.preconditionFailed {
                            return (writer, false)
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let winners = outcomes.filter(\.won).map(\.writer)
            #expect(winners.count == 1)
            #expect(try await index.object(bucket: "b", key: "lock")?.etag == winners.first.map { "writer-\($0)" })
        },
        Case("concurrent unconditional writers each replace exactly one predecessor") { index in
            try await index.createBucket(bucket("b"))
            let replaced = try await withThrowingTaskGroup(of: String?.self) { group in
                for writer in 0..<20 {
                    group.addTask {
                        try await index.putObject(record("b", "k", etag: "writer-\(writer)"), condition: .always)?.etag
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            // The writes form one chain: one found nothing, every other replaced a distinct earlier one, and the
            // last is the current record.
            #expect(replaced.filter { $0 == nil }.count == 1)
            let predecessors = replaced.compactMap { $0 }
            #expect(Set(predecessors).count == 19)
            let current = try #require(try await index.object(bucket: "b", key: "k")?.etag)
            #expect(!predecessors.contains(current))
        },
    ]

    // MARK: Scans

    /// Keys whose byte order trips up code that compares Strings, UTF-16 or paths.
    static let awkwardKeys: [String] = [
        "a", "a/b", "a/", "../../etc/passwd", "dir//x", "é", "日本", "\u{1F600}", "\u{FF61}",
        "Z", "a b", "a+b", "a%2Fb", "a\u{7F}", "~", String(repeating: "k", count: 1024),
        String(repeating: "日", count: 341) + "x",  // 1024 bytes of mostly 3-byte characters
    ]

    /// ``awkwardKeys`` sorted the way S3 sorts: by UTF-8 bytes.
    static var awkwardKeysInByteOrder: [[UInt8]] {
        bytes(awkwardKeys).sorted { $0.lexicographicallyPrecedes($1) }
    }

    static func prefixRange(_ prefix: String) -> KeyRange {
        var upper = Array(prefix.utf8)
        // The smallest byte string above every key with this prefix: bump the last byte that can be bumped.
        while let last = upper.popLast() {
            if last < 0xFF {
                upper.append(last + 1)
                return KeyRange(lower: Array(prefix.utf8), lowerInclusive: true, upper: upper)
            }
        }
        return KeyRange(lower: Array(prefix.utf8), lowerInclusive: true, upper: nil)
    }

    static func range(_ lower: String, inclusive: Bool = true, upper: String? = nil) -> KeyRange {
        KeyRange(lower: Array(lower.utf8), lowerInclusive: inclusive, upper: upper.map { Array($0.utf8) })
    }

    /// A bucket `b` holding one record under each of ``awkwardKeys``.
    static func fillAwkwardBucket(_ index: any ObjectIndex) async throws {
        try await index.createBucket(bucket("b"))
        for key in awkwardKeys {
            _ = try await index.putObject(record("b", key), condition: .ifAbsent)
        }
    }

    /// Named ranges with the keys each must return, written out by hand.
    static let rangeExamples: [(name: String, range: KeyRange, keys: [String])] = [
        ("prefix a/", prefixRange("a/"), ["a/", "a/b"]),
        ("prefix a", prefixRange("a"), ["a", "a b", "a%2Fb", "a+b", "a/", "a/b", "a\u{7F}"]),
        ("prefix ../", prefixRange("../"), ["../../etc/passwd"]),
        ("prefix dir/", prefixRange("dir/"), ["dir//x"]),
        ("prefix with no keys", prefixRange("zzz"), []),
        ("after a, exclusive, to a/", range("a", inclusive: false, upper: "a/"), ["a b", "a%2Fb", "a+b"]),
        ("from a/, inclusive, to a/b", range("a/", upper: "a/b"), ["a/"]),
        ("after a/b, up to b", range("a/b", inclusive: false, upper: "b"), ["a\u{7F}"]),
        ("non-ASCII, in UTF-8 order", range("\u{80}"), [
            "é", String(repeating: "日", count: 341) + "x", "日本", "\u{FF61}", "\u{1F600}",
        ]),
        ("U+FF61 sorts before U+1F600 (UTF-16 would swap them)", range("\u{FF61}"), ["\u{FF61}", "\u{1F600}"]),
        ("after the last key", range("\u{1F600}", inclusive: false), []),
        ("an empty range", range("m", upper: "m"), []),
    ]

    static let scanCases: [Case] = [
        Case("a full scan lists every key once, in UTF-8 byte order") { index in
            try await fillAwkwardBucket(index)
            let all = try await index.scan(bucket: "b", range: range(""), limit: 1000)
            #expect(bytes(all) == awkwardKeysInByteOrder)
            #expect(all.allSatisfy { $0.bucket == "b" })
        },
        Case("the byte order of some awkward keys, written out") { index in
            try await index.createBucket(bucket("b"))
            let expected = ["../../etc/passwd", "a", "a/", "a/b", "dir//x", "é", "日本", "\u{FF61}", "\u{1F600}"]
            for key in expected.reversed() { _ = try await index.putObject(record("b", key), condition: .always) }
            #expect(bytes(try await index.scan(bucket: "b", range: range(""), limit: 100)) == bytes(expected))
        },
        Case("each example range returns exactly its keys") { index in
            try await fillAwkwardBucket(index)
            for example in rangeExamples {
                let found = try await index.scan(bucket: "b", range: example.range, limit: 1000)
                #expect(bytes(found) == bytes(example.keys), "\(example.name)")
                // The protocol's own notion of a range must agree.
                #expect(bytes(found) == awkwardKeysInByteOrder.filter(example.range.contains), "\(example.name)")
            }
        },
        Case("a 1024-byte key round-trips and is found by its prefix") { index in
            try await fillAwkwardBucket(index)
            let long = String(repeating: "k", count: 1024)
            #expect(try await index.object(bucket: "b", key: long)?.key.utf8.count == 1024)
            #expect(bytes(try await index.scan(bucket: "b", range: prefixRange("kkk"), limit: 10)) == bytes([long]))
        },
        Case("limit caps a scan to the first keys") { index in
            try await fillAwkwardBucket(index)
            for limit in [1, 2, 5] {
                let found = try await index.scan(bucket: "b", range: range(""), limit: limit)
                #expect(bytes(found) == Array(awkwardKeysInByteOrder.prefix(limit)), "limit \(limit)")
            }
            #expect(try await index.scan(bucket: "b", range: range(""), limit: 0).isEmpty)
        },
        Case("paging with limit and an exclusive lower bound neither repeats nor skips") { index in
            try await fillAwkwardBucket(index)
            var pages: [[UInt8]] = []
            var lower: [UInt8] = []
            var inclusive = true
            while true {
                let page = try await index.scan(
                    bucket: "b", range: KeyRange(lower: lower, lowerInclusive: inclusive, upper: nil), limit: 3)
                pages += bytes(page)
                guard page.count == 3, let last = page.last else { break }
                (lower, inclusive) = (Array(last.key.utf8), false)
            }
            #expect(pages == awkwardKeysInByteOrder)
        },
        Case("a scan sees only its own bucket") { index in
            try await fillAwkwardBucket(index)
            try await index.createBucket(bucket("a"))
            try await index.createBucket(bucket("c"))
            _ = try await index.putObject(record("a", "a/x"), condition: .always)
            _ = try await index.putObject(record("c", "a/y"), condition: .always)
            #expect(bytes(try await index.scan(bucket: "b", range: prefixRange("a/"), limit: 10)) == bytes(["a/", "a/b"]))
            #expect(bytes(try await index.scan(bucket: "c", range: range(""), limit: 10)) == bytes(["a/y"]))
        },
        Case("an empty bucket scans to nothing") { index in
            try await index.createBucket(bucket("b"))
            #expect(try await index.scan(bucket: "b", range: range(""), limit: 10).isEmpty)
        },
        Case("a scan returns what a listing shows, without segment lists") { index in
            try await index.createBucket(bucket("b"))
            let stored = record("b", "k", etag: "e", blob: "x")
            _ = try await index.putObject(stored, condition: .always)
            let scanned = try await index.scan(bucket: "b", range: range(""), limit: 10)
            #expect(scanned.count == 1)
            var expected = stored
            expected.segments = scanned.first?.segments ?? []
            #expect(scanned == [expected])
        },
    ]
}
