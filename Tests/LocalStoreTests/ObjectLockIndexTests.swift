import Foundation
import LocalStore
import ObjectStore
import Testing

/// Object lock as every ``StorageIndex`` must enforce it (bucket state, locked versions, retention and legal hold
/// changes), as named cases that each take a fresh, empty index; run on SQLite and on PostgreSQL below.
enum ObjectLockIndexContract {
    /// One behaviour, checked against an empty index.
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let check: @Sendable (any StorageIndex) async throws -> Void

        init(_ name: String, _ check: @escaping @Sendable (any StorageIndex) async throws -> Void) {
            self.name = name
            self.check = check
        }

        var testDescription: String { name }
    }

    static func lockBucket(_ name: String) -> BucketInfo {
        BucketInfo(name: name, creationDate: ObjectIndexContract.sampleDate, region: "us-east-1",
                   versioning: .enabled, objectLock: ObjectLockConfiguration())
    }

    static func locked(_ key: String, _ mode: ObjectLockMode?, hold: Bool? = nil) -> ObjectRecord {
        var record = ObjectIndexContract.record("b", key)
        record.metadata.retention = mode.map { ObjectRetention(mode: $0, retainUntil: Date().addingTimeInterval(3600)) }
        record.metadata.legalHold = hold
        return record
    }

    static let cases: [Case] = [
        Case("a lock bucket is created versioned, cannot be suspended, and object lock needs versioning Enabled") { index in
            try await index.createBucket(lockBucket("b"))
            let created = try #require(try await index.bucket(named: "b"))
            #expect(created.versioning == .enabled && created.objectLock == ObjectLockConfiguration())
            await #expect(throws: StoreError.invalidBucketState) { try await index.setVersioning(.suspended, bucket: "b") }
            let rule = ObjectLockConfiguration(defaultRetention: DefaultRetention(mode: .compliance, years: 1))
            try await index.setObjectLock(rule, bucket: "b")
            #expect(try await index.bucket(named: "b")?.objectLock == rule)

            try await index.createBucket(ObjectIndexContract.bucket("plain"))
            await #expect(throws: StoreError.invalidBucketState) { try await index.setObjectLock(rule, bucket: "plain") }
            try await index.setVersioning(.suspended, bucket: "plain")
            await #expect(throws: StoreError.invalidBucketState) { try await index.setObjectLock(rule, bucket: "plain") }
            try await index.setVersioning(.enabled, bucket: "plain")
            try await index.setObjectLock(rule, bucket: "plain")
            #expect(try await index.bucket(named: "plain")?.objectLock == rule)
        },
        Case("a locked version is refused with nothing changed; the bypass frees GOVERNANCE only") { index in
            try await index.createBucket(lockBucket("b"))
            let governed = try #require(try await index.putObject(locked("g", .governance), condition: .always, source: nil).stored)
            let complied = try #require(try await index.putObject(locked("c", .compliance), condition: .always, source: nil).stored)
            let held = try #require(try await index.putObject(locked("h", nil, hold: true), condition: .always, source: nil).stored)
            for record in [governed, complied, held] {
                await #expect(throws: StoreError.objectLocked) {
                    try await index.deleteVersion(bucket: "b", key: record.key, versionID: record.versionName, bypassGovernance: false)
                }
                #expect(try await index.object(bucket: "b", key: record.key) != nil)
            }
            let outcomes = try await index.deleteObjects(
                bucket: "b", requests: [governed, complied, held].map { DeleteRequest(key: $0.key, versionID: $0.versionID) },
                bypassGovernance: true)
            #expect(outcomes.map { (try? $0.get()) == nil } == [false, true, true])
            #expect(try await index.object(bucket: "b", key: "g") == nil)

            // A plain delete only stacks a marker, which object lock allows.
            let marked = try await index.deleteObject(bucket: "b", key: "c")
            #expect(marked.stored?.isDeleteMarker == true)
            #expect(try await index.objectVersion(bucket: "b", key: "c", versionID: complied.versionName) != nil)
        },
        Case("retention changes are checked in the write, and a legal hold can always be released") { index in
            try await index.createBucket(lockBucket("b"))
            let stored = try #require(try await index.putObject(locked("k", .governance), condition: .always, source: nil).stored)
            await #expect(throws: StoreError.objectLocked) {
                try await index.setRetention(nil, bucket: "b", key: "k", versionID: stored.versionID, bypassGovernance: false)
            }
            #expect(try await index.object(bucket: "b", key: "k")?.metadata.retention?.mode == .governance)
            let removed = try await index.setRetention(nil, bucket: "b", key: "k", versionID: stored.versionID, bypassGovernance: true)
            #expect(removed?.metadata.retention == nil)
            #expect(try await index.objectVersion(bucket: "b", key: "k", versionID: stored.versionName)?.metadata.retention == nil)

            _ = try await index.setLegalHold(true, bucket: "b", key: "k", versionID: nil)
            await #expect(throws: StoreError.objectLocked) {
                try await index.deleteVersion(bucket: "b", key: "k", versionID: stored.versionName, bypassGovernance: true)
            }
            _ = try await index.setLegalHold(false, bucket: "b", key: "k", versionID: stored.versionID)
            _ = try await index.deleteVersion(bucket: "b", key: "k", versionID: stored.versionName, bypassGovernance: false)
            #expect(try await index.object(bucket: "b", key: "k") == nil)
            #expect(try await index.setLegalHold(true, bucket: "b", key: "missing", versionID: nil) == nil)
        },
    ]
}

@Suite("SQLite index: object lock")
struct ObjectLockIndexTests {
    @Test("passes the object lock contract", arguments: ObjectLockIndexContract.cases)
    func contract(_ check: ObjectLockIndexContract.Case) async throws {
        try await withSQLiteIndex { index, _ in try await check.check(index) }
    }
}

@Suite("PostgreSQL index: object lock", .enabled(if: PostgresTestServer.url != nil, "needs MARTLET_TEST_POSTGRES (make test provides it)"))
struct PostgresObjectLockIndexTests {
    @Test("passes the object lock contract", arguments: ObjectLockIndexContract.cases)
    func contract(_ check: ObjectLockIndexContract.Case) async throws {
        try await withPostgresIndex { index, _ in try await check.check(index) }
    }
}

/// A lock placed through one node and a delete of the same version through another (two pools on one database):
/// whichever commits first decides, and never both succeed.
@Suite("PostgreSQL index: object lock across nodes", .enabled(if: PostgresTestServer.url != nil, "needs MARTLET_TEST_POSTGRES (make test provides it)"))
struct PostgresObjectLockAcrossNodesTests {
    @Test("a legal hold or a COMPLIANCE retention set through one node while the version is deleted through the other: one or the other")
    func lockRacingDelete() async throws {
        try await withPostgresIndex { first, url in
            try await withPostgresIndex(url: url) { second in
                try await first.createBucket(ObjectLockIndexContract.lockBucket("b"))
                for round in 0..<30 {
                    let key = "k\(round)"
                    // Even rounds: GOVERNANCE that the delete bypasses, against a legal hold. Odd rounds: no lock at all,
                    // against a COMPLIANCE retention.
                    let holds = round.isMultiple(of: 2)
                    var record = ObjectLockIndexContract.locked(key, holds ? .governance : nil)
                    record.segments = [BlobSegment(blobID: BlobID("blob-\(round)"), size: 3)]
                    let stored = try #require(try await first.putObject(record, condition: .always, source: nil).stored)
                    let versionID = stored.versionName
                    let retention = ObjectRetention(mode: .compliance, retainUntil: Date().addingTimeInterval(3600))
                    async let locking = holds
                        ? first.setLegalHold(true, bucket: "b", key: key, versionID: versionID)
                        : first.setRetention(retention, bucket: "b", key: key, versionID: versionID, bypassGovernance: false)
                    async let deleting: Result<IndexChange, any Error> = {
                        do {
                            return .success(try await second.deleteVersion(bucket: "b", key: key, versionID: versionID, bypassGovernance: true))
                        } catch {
                            return .failure(error)
                        }
                    }()
                    let (locked, deleted) = try await (locking, deleting)
                    let remaining = try await second.objectVersion(bucket: "b", key: key, versionID: versionID)
                    switch deleted {
                    case .success(let change):
                        #expect(locked == nil, "round \(round): the lock was set on a version deleted at the same time")
                        #expect(change.replaced?.versionID == stored.versionID)
                        #expect(remaining == nil)
                        #expect(try await first.isBlobReferenced(BlobID("blob-\(round)")) == false)
                    case .failure(let error):
                        #expect(error as? StoreError == .objectLocked, "round \(round): \(error)")
                        #expect(locked != nil)
                        #expect(remaining?.metadata.isLocked(at: Date(), bypassGovernance: true) == true, "round \(round)")
                        #expect(try await first.object(bucket: "b", key: key) == remaining)
                    }
                }
            }
        }
    }
}
