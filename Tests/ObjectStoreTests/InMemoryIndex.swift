import Foundation
import ObjectStore
import Synchronization

/// An ObjectIndex over a sorted array, for testing what sits on top of the protocol. Counts scans so tests can
/// check that listing seeks rather than walks.
final class InMemoryIndex: ObjectIndex {
    private struct State {
        var buckets: [String: BucketInfo] = [:]
        var objects: [String: [ObjectRecord]] = [:]
        var scans = 0
    }

    private let state = Mutex(State())

    var scanCount: Int { state.withLock { $0.scans } }

    func createBucket(_ bucket: BucketInfo) async throws {
        try state.withLock { s in
            guard s.buckets[bucket.name] == nil else { throw StoreError.bucketAlreadyExists }
            s.buckets[bucket.name] = bucket
            s.objects[bucket.name] = []
        }
    }

    func bucket(named name: String) async throws -> BucketInfo? { state.withLock { $0.buckets[name] } }

    func listBuckets() async throws -> [BucketInfo] {
        state.withLock { $0.buckets.values.sorted { $0.name < $1.name } }
    }

    func deleteBucket(named name: String) async throws -> [BlobID] {
        try state.withLock { s in
            guard let objects = s.objects[name] else { throw StoreError.noSuchBucket }
            guard objects.isEmpty else { throw StoreError.bucketNotEmpty }
            s.buckets[name] = nil
            s.objects[name] = nil
            return []
        }
    }

    func object(bucket: String, key: String) async throws -> ObjectRecord? {
        try state.withLock { s in
            guard let objects = s.objects[bucket] else { throw StoreError.noSuchBucket }
            return objects.first { $0.key == key }
        }
    }

    func putObject(_ record: ObjectRecord, condition: WriteCondition, source: SharedSource?) async throws -> IndexChange {
        try state.withLock { s in
            guard var objects = s.objects[record.bucket] else { throw StoreError.noSuchBucket }
            let existing = objects.firstIndex { $0.key == record.key }
            if !condition.holds(for: existing.map { objects[$0] }) { throw StoreError.preconditionFailed }
            var replaced: ObjectRecord?
            if let existing {
                replaced = objects[existing]
                objects[existing] = record
            } else {
                objects.append(record)
                objects.sort { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
            }
            s.objects[record.bucket] = objects
            return IndexChange(replaced: replaced)
        }
    }

    func deleteObject(bucket: String, key: String) async throws -> IndexChange {
        try state.withLock { s in
            guard var objects = s.objects[bucket] else { throw StoreError.noSuchBucket }
            guard let index = objects.firstIndex(where: { $0.key == key }) else { return IndexChange() }
            let removed = objects.remove(at: index)
            s.objects[bucket] = objects
            return IndexChange(replaced: removed)
        }
    }

    func deleteObjects(bucket: String, requests: [DeleteRequest], bypassGovernance: Bool) async throws -> [Result<IndexChange, StoreError>] {
        var outcomes: [Result<IndexChange, StoreError>] = []
        for request in requests { outcomes.append(.success(try await deleteObject(bucket: bucket, key: request.key))) }
        return outcomes
    }

    func scan(bucket: String, range: KeyRange, limit: Int) async throws -> [ObjectRecord] {
        try state.withLock { s in
            guard let objects = s.objects[bucket] else { throw StoreError.noSuchBucket }
            s.scans += 1
            return Array(objects.lazy.filter { range.contains(Array($0.key.utf8)) }.prefix(limit))
        }
    }

    func isBlobReferenced(_ id: BlobID) async throws -> Bool {
        state.withLock { s in s.objects.values.contains { $0.contains { $0.segments.contains { $0.blobID == id } } } }
    }
}

extension InMemoryIndex {
    static func with(keys: [String], bucket: String = "b") async throws -> InMemoryIndex {
        let index = InMemoryIndex()
        try await index.createBucket(BucketInfo(name: bucket, creationDate: Date(), region: "us-east-1"))
        for key in keys {
            _ = try await index.putObject(
                ObjectRecord(bucket: bucket, key: key, size: 0, etag: "e", lastModified: Date(), metadata: ObjectMetadata(),
                             checksum: nil, segments: []),
                condition: .always)
        }
        return index
    }
}
