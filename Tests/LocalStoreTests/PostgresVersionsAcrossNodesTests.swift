import Foundation
import ObjectStore
import Testing

@testable import PostgresIndex

/// Versioned writes to one key through two nodes (two pools on one database) must leave the history a serial order of
/// them would: the current object is the newest version unless that is a delete marker, and it alone lists as latest.
@Suite("PostgresIndex versions across nodes", .enabled(if: PostgresTestServer.url != nil, "needs MARTLET_TEST_POSTGRES (make test provides it)"))
struct PostgresVersionsAcrossNodesTests {
    /// Throws unless the key's current object, latest version and listing agree.
    static func expectConsistent(_ index: PostgresIndex, key: String, round: Int) async throws {
        let latest = try await index.latestVersion(bucket: "b", key: key)
        let current = try await index.object(bucket: "b", key: key)
        let expected = latest?.isDeleteMarker == false ? latest?.versionID : nil
        #expect(current?.versionID == expected, "round \(round): current \(current?.etag ?? "none"), latest \(latest?.etag ?? "none")")
        let listed = try await index.versions(
            bucket: "b", range: KeyRange(lower: Array(key.utf8), lowerInclusive: true, upper: Array((key + "\u{0}").utf8)),
            after: nil, limit: 100)
        #expect(listed.filter(\.isLatest).map(\.record.versionID) == [latest?.versionID], "round \(round)")
    }

    @Test("a PUT through one node racing a DELETE through the other, on a key with no current object, is ordered as it committed")
    func putRacingDeleteMarker() async throws {
        try await withPostgresIndex { first, url in
            try await withPostgresIndex(url: url) { second in
                try await first.createBucket(VersionIndexContract.versionedBucket("b"))
                for round in 0..<30 {
                    let key = "k\(round)"
                    // Odd rounds start from a delete marker, even ones from a key never written.
                    if !round.isMultiple(of: 2) {
                        _ = try await first.putObject(ObjectIndexContract.record("b", key, etag: "old", blob: "old-\(round)"), condition: .always)
                        _ = try await second.deleteObject(bucket: "b", key: key)
                    }
                    async let put = first.putObject(
                        ObjectIndexContract.record("b", key, etag: "new", blob: "new-\(round)"), condition: .always, source: nil)
                    async let delete = second.deleteObject(bucket: "b", key: key)
                    let (stored, marker) = try await (put, delete)
                    #expect(stored.stored?.versionID != nil && marker.stored?.isDeleteMarker == true)
                    try await Self.expectConsistent(first, key: key, round: round)
                    #expect(try await second.isBlobReferenced(BlobID("new-\(round)")))
                }
            }
        }
    }

    @Test(
        "DeleteObjects of the same keys in opposite orders through two nodes frees each blob once",
        arguments: [("never versioned", nil), ("versioning Enabled", VersioningState.enabled)] as [(String, VersioningState?)])
    func opposingBatchDeletes(_ name: String, versioning: VersioningState?) async throws {
        try await withPostgresIndex { first, url in
            try await withPostgresIndex(url: url) { second in
                for round in 0..<10 {
                    let bucket = "b\(round)"
                    try await first.createBucket(
                        BucketInfo(name: bucket, creationDate: ObjectIndexContract.sampleDate, region: "us-east-1", versioning: versioning))
                    var requests: [DeleteRequest] = []
                    for number in 0..<8 {
                        let stored = try await first.putObject(
                            ObjectIndexContract.record(bucket, "k\(number)", blob: "blob-\(round)-\(number)"), condition: .always,
                            source: nil
                        ).stored
                        // Versioned rounds delete the versions themselves, so their blobs are freed too.
                        requests.append(DeleteRequest(key: "k\(number)", versionID: versioning == nil ? nil : stored?.versionID))
                    }
                    let forward = requests
                    async let one = first.deleteObjects(bucket: bucket, requests: forward, bypassGovernance: false)
                    async let other = second.deleteObjects(bucket: bucket, requests: forward.reversed(), bypassGovernance: false)
                    let freed = try await (one + other).flatMap { try $0.get().freedBlobs }
                    #expect(freed.sorted { $0.rawValue < $1.rawValue } == (0..<8).map { BlobID("blob-\(round)-\($0)") }, "round \(round)")
                    #expect(try await second.scan(bucket: bucket, range: VersionIndexContract.everything, limit: 10).isEmpty)
                }
            }
        }
    }

    @Test(
        "lifecycle expiry through one node racing a PUT through the other never expires the new object",
        arguments: [("never versioned", nil), ("versioning Enabled", VersioningState.enabled)] as [(String, VersioningState?)])
    func expiryRacingPut(_ name: String, versioning: VersioningState?) async throws {
        try await withPostgresIndex { first, url in
            try await withPostgresIndex(url: url) { second in
                try await first.createBucket(
                    BucketInfo(name: "b", creationDate: ObjectIndexContract.sampleDate, region: "us-east-1", versioning: versioning))
                for round in 0..<20 {
                    let key = "k\(round)"
                    let old = try #require(try await first.putObject(
                        ObjectIndexContract.record("b", key, etag: "old", blob: "old-\(round)"), condition: .always, source: nil).stored)
                    async let expiry = first.expireCurrent(bucket: "b", key: key, expected: old)
                    async let put = second.putObject(
                        ObjectIndexContract.record("b", key, etag: "new", blob: "new-\(round)"), condition: .always, source: nil)
                    let (expired, stored) = try await (expiry, put)
                    let current = try #require(try await first.object(bucket: "b", key: key), "round \(round): the new object was expired")
                    #expect(current.versionID == stored.stored?.versionID && current.etag == "new", "round \(round)")
                    // The expiry either went first (and took the old object) or found it replaced and did nothing.
                    #expect(expired.replaced == nil || expired.replaced == old, "round \(round)")
                    #expect(try await second.isBlobReferenced(BlobID("new-\(round)")))
                    if versioning != nil { try await Self.expectConsistent(second, key: key, round: round) }
                }
            }
        }
    }

    @Test("16 PUTs and DELETEs of one key through two nodes keep every version, the newest current")
    func manyWritersOneKey() async throws {
        try await withPostgresIndex(connections: 8) { first, url in
            try await withPostgresIndex(url: url, connections: 8) { second in
                try await first.createBucket(VersionIndexContract.versionedBucket("b"))
                let stored = try await withThrowingTaskGroup(of: ObjectRecord?.self) { group in
                    for writer in 0..<16 {
                        let node = writer.isMultiple(of: 2) ? first : second
                        group.addTask {
                            if writer % 4 == 3 { return try await node.deleteObject(bucket: "b", key: "k").stored }
                            return try await node.putObject(
                                ObjectIndexContract.record("b", "k", etag: "w\(writer)", blob: "w\(writer)"), condition: .always,
                                source: nil
                            ).stored
                        }
                    }
                    return try await group.reduce(into: [ObjectRecord]()) { if let record = $1 { $0.append(record) } }
                }
                #expect(stored.count == 16)
                let listed = try await second.versions(
                    bucket: "b", range: VersionIndexContract.everything, after: nil, limit: 100)
                #expect(Set(listed.map(\.record.versionName)) == Set(stored.map(\.versionName)))
                try await Self.expectConsistent(second, key: "k", round: 0)
                for writer in 0..<16 where writer % 4 != 3 {
                    #expect(try await first.isBlobReferenced(BlobID("w\(writer)")))
                }
            }
        }
    }
}
