import Foundation
import LocalStore
import ObjectStore
import Testing

@testable import PostgresIndex

@Suite("SQLiteIndex multipart uploads")
struct MultipartIndexTests {
    @Test("passes the multipart contract", arguments: MultipartIndexContract.cases)
    func contract(_ check: MultipartIndexContract.Case) async throws {
        try await withSQLiteIndex { index, _ in try await check.check(index) }
    }
}

@Suite("PostgresIndex multipart uploads", .enabled(if: PostgresTestServer.url != nil, "needs MARTLET_TEST_POSTGRES (make test provides it)"))
struct PostgresMultipartIndexTests {
    @Test("passes the multipart contract", arguments: MultipartIndexContract.cases)
    func contract(_ check: MultipartIndexContract.Case) async throws {
        try await withPostgresIndex { index, _ in try await check.check(index) }
    }
}

/// Two nodes are two `PostgresIndex` pools on one database: what one records, the other must see and respect.
@Suite("PostgresIndex multipart uploads across nodes", .enabled(if: PostgresTestServer.url != nil, "needs MARTLET_TEST_POSTGRES (make test provides it)"))
struct PostgresMultipartAcrossNodesTests {
    typealias Contract = MultipartIndexContract

    @Test("an upload whose parts are recorded alternately through two nodes, at once, completes with every part")
    func alternatingParts() async throws {
        try await withPostgresIndex { first, url in
            try await withPostgresIndex(url: url) { second in
                let nodes = [first, second]
                try await first.createBucket(ObjectIndexContract.bucket("b"))
                try await second.createUpload(Contract.makeUpload("u1"))
                let numbers = Array(1...12)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for number in numbers {
                        group.addTask {
                            let change = try await nodes[number % 2].putPart(
                                Contract.makePart(number, blob: "p\(number)"), bucket: "b", key: "k", uploadID: "u1", source: nil)
                            #expect(change.freedBlobs.isEmpty)
                        }
                    }
                    try await group.waitForAll()
                }
                for node in nodes {
                    #expect(try await node.parts(bucket: "b", key: "k", uploadID: "u1", after: 0, limit: 100).map(\.number) == numbers)
                }
                // Part 1 again, through the node that did not record it first: the first blob is freed.
                let replaced = try await first.putPart(Contract.makePart(1, blob: "p1-again"), bucket: "b", key: "k", uploadID: "u1", source: nil)
                #expect(replaced.freedBlobs == [BlobID("p1")])

                let (record, change) = try await first.completeUpload(
                    bucket: "b", key: "k", uploadID: "u1", condition: .always, fingerprint: "all", assemble: Contract.assembling(numbers))
                #expect(record.parts.map(\.number) == numbers)
                #expect(record.segments.map(\.blobID) == [BlobID("p1-again")] + numbers.dropFirst().map { BlobID("p\($0)") })
                #expect(change.freedBlobs.isEmpty)
                #expect(try await second.object(bucket: "b", key: "k") == record)
                for blob in record.segments.map(\.blobID) { #expect(try await second.isBlobReferenced(blob)) }
                for node in nodes {
                    let gone = try await node.upload(bucket: "b", key: "k", uploadID: "u1")
                    #expect(gone == nil)
                }
            }
        }
    }

    /// Either the part is recorded before the Complete (and the Complete takes it, or frees its blob when it leaves
    /// it out), or the upload is gone by the time it would be and it fails with noSuchUpload: never a part row or
    /// blob reference left behind an upload that is no more. Rounds cycle through a new part 3 and part 2 uploaded
    /// again, each kept in the object or left out of it.
    @Test("a part recorded through one node while the upload completes through the other leaves nothing behind")
    func partRacingComplete() async throws {
        try await withPostgresIndex { first, url in
            try await withPostgresIndex(url: url) { second in
                try await first.createBucket(ObjectIndexContract.bucket("b"))
                for round in 0..<32 {
                    let uploadID = "u\(round)"
                    let key = "k\(round)"
                    try await first.createUpload(Contract.makeUpload(uploadID, key: key))
                    for number in 1...2 {
                        _ = try await first.putPart(
                            Contract.makePart(number, blob: "p\(number)-\(round)"), bucket: "b", key: key, uploadID: uploadID, source: nil)
                    }
                    let number = round % 4 < 2 ? 3 : 2
                    let keepsIt = round.isMultiple(of: 2)
                    let late = BlobID("late-\(round)")
                    let earlier = BlobID("p2-\(round)")
                    async let partOutcome: Result<IndexChange, any Error> = {
                        do {
                            return .success(try await second.putPart(
                                Contract.makePart(number, blob: late.rawValue), bucket: "b", key: key, uploadID: uploadID, source: nil))
                        } catch {
                            return .failure(error)
                        }
                    }()
                    async let completion = first.completeUpload(
                        bucket: "b", key: key, uploadID: uploadID, condition: .always, fingerprint: "f",
                        assemble: Contract.assembling([1, 2, 3].filter { keepsIt || $0 != number }))
                    let (record, change) = try await completion
                    let landed: Bool
                    switch await partOutcome {
                    case .success(let put):
                        landed = true
                        #expect(put.freedBlobs == (number == 2 ? [earlier] : []), "round \(round)")
                    case .failure(let error):
                        landed = false
                        #expect(error as? StoreError == .noSuchUpload, "round \(round): \(error)")
                    }
                    let inObject = record.segments.contains { $0.blobID == late }
                    #expect(record.etag == (landed && number == 3 ? "1,2,3" : "1,2"), "round \(round): the Complete saw every part that landed")
                    #expect(inObject == (landed && keepsIt), "round \(round)")
                    #expect(change.freedBlobs.contains(late) == (landed && !keepsIt), "round \(round)")
                    // Part 2's first blob stays only in an object that took it.
                    let earlierKept = number == 3 || (!landed && keepsIt)
                    #expect(record.segments.contains { $0.blobID == earlier } == earlierKept, "round \(round)")
                    for node in [first, second] {
                        #expect(try await node.isBlobReferenced(late) == inObject, "round \(round)")
                        #expect(try await node.isBlobReferenced(earlier) == earlierKept, "round \(round)")
                        await #expect(throws: StoreError.noSuchUpload) {
                            try await node.parts(bucket: "b", key: key, uploadID: uploadID, after: 0, limit: 10)
                        }
                        let gone = try await node.upload(bucket: "b", key: key, uploadID: uploadID)
                        #expect(gone == nil)
                    }
                }
            }
        }
    }

    @Test("the same upload completed through both nodes at once: one Complete wins, the other finds its receipt")
    func completeTwice() async throws {
        try await withPostgresIndex { first, url in
            try await withPostgresIndex(url: url) { second in
                try await first.createBucket(ObjectIndexContract.bucket("b"))
                for round in 0..<16 {
                    let uploadID = "u\(round)"
                    let key = "k\(round)"
                    try await first.createUpload(Contract.makeUpload(uploadID, key: key))
                    for number in 1...2 {
                        _ = try await second.putPart(
                            Contract.makePart(number, blob: "p\(number)-\(round)"), bucket: "b", key: key, uploadID: uploadID, source: nil)
                    }
                    let outcomes = await withTaskGroup(of: Result<ObjectRecord, StoreError>.self) { group in
                        for node in [first, second] {
                            group.addTask {
                                do {
                                    return .success(try await node.completeUpload(
                                        bucket: "b", key: key, uploadID: uploadID, condition: .always, fingerprint: "f-\(round)",
                                        assemble: Contract.assembling([1, 2])).0)
                                } catch {
                                    return .failure(error as? StoreError ?? .ioFailure("\(error)"))
                                }
                            }
                        }
                        return await group.reduce(into: [Result<ObjectRecord, StoreError>]()) { $0.append($1) }
                    }
                    let winners = outcomes.compactMap { try? $0.get() }
                    #expect(winners.count == 1, "round \(round): \(outcomes)")
                    for outcome in outcomes {
                        if case .failure(let error) = outcome { #expect(error == .noSuchUpload, "round \(round)") }
                    }
                    let winner = try #require(winners.first)
                    for node in [first, second] {
                        let receipt = try #require(try await node.completedUpload(bucket: "b", key: key, uploadID: uploadID))
                        #expect(receipt.fingerprint == "f-\(round)" && receipt.etag == winner.etag)
                        #expect(try await node.object(bucket: "b", key: key) == winner)
                        for number in 1...2 { #expect(try await node.isBlobReferenced(BlobID("p\(number)-\(round)"))) }
                    }
                }
            }
        }
    }

    /// A bucket deleted through one node takes with it every upload and part the other node recorded before the
    /// delete; what the other node tries after it fails, so no upload, part or blob reference outlives the bucket.
    @Test("a part and an upload recorded through one node while the bucket is deleted through the other leave nothing behind")
    func uploadRacingBucketDelete() async throws {
        try await withPostgresIndex { first, url in
            try await withPostgresIndex(url: url) { second in
                for round in 0..<20 {
                    let bucket = "b\(round)"
                    try await first.createBucket(ObjectIndexContract.bucket(bucket))
                    try await first.createUpload(Contract.makeUpload("u\(round)", bucket: bucket))
                    _ = try await first.putPart(Contract.makePart(1, blob: "p1-\(round)"), bucket: bucket, key: "k", uploadID: "u\(round)", source: nil)
                    let late = BlobID("late-\(round)")
                    async let partOutcome: Bool = {
                        do {
                            _ = try await second.putPart(
                                Contract.makePart(2, blob: late.rawValue), bucket: bucket, key: "k", uploadID: "u\(round)", source: nil)
                            return true
                        } catch {
                            #expect(error as? StoreError == .noSuchUpload, "round \(round): \(error)")
                            return false
                        }
                    }()
                    async let uploadOutcome: Bool = {
                        do {
                            try await second.createUpload(Contract.makeUpload("v\(round)", key: "other", bucket: bucket))
                            return true
                        } catch {
                            #expect(error as? StoreError == .noSuchBucket, "round \(round): \(error)")
                            return false
                        }
                    }()
                    async let freed = first.deleteBucket(named: bucket)
                    let (partLanded, _, freedBlobs) = try await (partOutcome, uploadOutcome, freed)
                    #expect(Set(freedBlobs) == Set([BlobID("p1-\(round)")] + (partLanded ? [late] : [])), "round \(round)")
                    for node in [first, second] {
                        #expect(try await node.isBlobReferenced(late) == false, "round \(round)")
                        #expect(try await node.bucket(named: bucket) == nil)
                    }
                    // Created again, the bucket has no upload from before.
                    try await second.createBucket(ObjectIndexContract.bucket(bucket))
                    #expect(try await first.uploads(bucket: bucket, range: Contract.everything, after: nil, limit: 10).isEmpty, "round \(round)")
                    #expect(try await first.upload(bucket: bucket, key: "other", uploadID: "v\(round)") == nil)
                }
            }
        }
    }
}
