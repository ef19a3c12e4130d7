import Foundation
import ObjectStore
import Testing

/// What every ``NotificationIndex`` must do: events recorded with the change that causes them (and only then),
/// in order, with the outbox's delivery bookkeeping; and per-bucket counters that follow every write.
enum NotificationIndexContract {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let check: @Sendable (any StorageIndex) async throws -> Void

        init(_ name: String, _ check: @escaping @Sendable (any StorageIndex) async throws -> Void) {
            self.name = name
            self.check = check
        }

        var testDescription: String { name }
    }

    static let arn = "arn:martlet:sqs:us-east-1:hook:webhook"
    static let origin = ChangeOrigin(requestID: "REQ", principalID: "AWS:me", sourceIP: "10.0.0.1")

    static func configured(_ index: any StorageIndex, events: [String] = ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"], prefix: String? = nil) async throws {
        try await index.createBucket(ObjectIndexContract.bucket("b"))
        try await index.setNotification(
            NotificationConfiguration(rules: [NotificationRule(id: "r", kind: .queue, targetARN: arn, events: events, prefix: prefix)]),
            bucket: "b", testEvents: [])
    }

    static func put(_ index: any StorageIndex, _ key: String, condition: WriteCondition = .always) async throws {
        _ = try await ChangeOrigin.$current.withValue(origin) {
            try await index.putObject(ObjectIndexContract.record("b", key), condition: condition, source: nil)
        }
    }

    static let cases: [Case] = [
        Case("a write records its event with who made it, in order") { index in
            try await configured(index)
            try await put(index, "one")
            try await put(index, "two")
            _ = try await ChangeOrigin.$current.withValue(origin) { try await index.deleteObject(bucket: "b", key: "one") }
            let pending = try await index.pendingEvents(limit: 10)
            #expect(pending.map(\.event.eventName) == ["s3:ObjectCreated:Put", "s3:ObjectCreated:Put", "s3:ObjectRemoved:Delete"])
            #expect(pending.map(\.event.key) == ["one", "two", "one"])
            #expect(pending.map(\.sequence) == pending.map(\.sequence).sorted())
            #expect(pending[0].event.requestID == "REQ" && pending[0].event.sourceIP == "10.0.0.1" && pending[0].targetARN == arn)
            #expect(pending[0].event.size == 3 && pending[2].event.size == nil)
        },
        Case("a write that fails its condition records nothing") { index in
            try await configured(index)
            try await put(index, "k")
            await #expect(throws: StoreError.preconditionFailed) {
                try await put(index, "k", condition: WriteCondition(ifNoneMatch: .any))
            }
            #expect(try await index.pendingEvents(limit: 10).count == 1)
        },
        Case("keys outside the filter and buckets without a configuration record nothing") { index in
            try await configured(index, prefix: "in/")
            try await put(index, "out/k")
            try await index.createBucket(ObjectIndexContract.bucket("quiet"))
            _ = try await index.putObject(ObjectIndexContract.record("quiet", "k"), condition: .always, source: nil)
            try await put(index, "in/k")
            #expect(try await index.pendingEvents(limit: 10).map(\.event.key) == ["in/k"])
        },
        Case("test events are recorded with the configuration") { index in
            try await index.createBucket(ObjectIndexContract.bucket("b"))
            let test = StoredEvent(eventName: StoredEvent.testEventName, eventTime: .now, bucket: "b", key: "", configurationID: "r",
                                   requestID: "R", principalID: "", sourceIP: "")
            try await index.setNotification(NotificationConfiguration(rules: []), bucket: "b", testEvents: [(arn, test)])
            #expect(try await index.pendingEvents(limit: 10).map(\.event.eventName) == [StoredEvent.testEventName])
            #expect(try await index.notification(bucket: "b") == NotificationConfiguration(rules: []))
        },
        Case("delivered events leave; failed ones wait, then dead-letter, then come back on retry") { index in
            try await configured(index)
            for key in ["a", "b", "c"] { try await put(index, key) }
            let pending = try await index.pendingEvents(limit: 10)
            try await index.finishEvents([pending[0].sequence])
            let later = Date(timeIntervalSince1970: 2_000_000_000)
            try await index.deferEvent(pending[1].sequence, attempts: 1, nextAttempt: later, error: "503", deadLetter: false)
            try await index.deferEvent(pending[2].sequence, attempts: 4, nextAttempt: later, error: "gone", deadLetter: true)
            let waiting = try await index.pendingEvents(limit: 10)
            #expect(waiting.map(\.event.key) == ["b"])
            #expect(waiting[0].attempts == 1 && waiting[0].nextAttempt == later && waiting[0].lastError == "503")
            #expect(try await index.failedEvents(limit: 10).map(\.event.key) == ["c"])
            #expect(try await index.outboxDepth() == (1, 1))
            #expect(try await index.retryFailedEvents(nil) == 1)
            #expect(try await index.pendingEvents(limit: 10).map(\.event.key) == ["b", "c"])
            #expect(try await index.outboxDepth() == (2, 0))
        },
        Case("bucket counters follow puts, overwrites, deletes, versions and uploads") { index in
            try await index.createBucket(ObjectIndexContract.bucket("b"))
            func usage() async throws -> BucketUsage? { try await index.bucketUsage().first { $0.bucket == "b" } }
            #expect(try await usage() == BucketUsage(bucket: "b", objects: 0, bytes: 0, uploads: 0))
            var big = ObjectIndexContract.record("b", "k")
            big.size = 100
            _ = try await index.putObject(big, condition: .always, source: nil)
            _ = try await index.putObject(ObjectIndexContract.record("b", "k2"), condition: .always, source: nil)
            #expect(try await usage() == BucketUsage(bucket: "b", objects: 2, bytes: 103, uploads: 0))
            _ = try await index.putObject(ObjectIndexContract.record("b", "k"), condition: .always, source: nil)
            #expect(try await usage() == BucketUsage(bucket: "b", objects: 2, bytes: 6, uploads: 0))
            try await index.setVersioning(.enabled, bucket: "b")
            #expect(try await usage() == BucketUsage(bucket: "b", objects: 2, bytes: 6, uploads: 0), "the objects became null versions")
            _ = try await index.putObject(big, condition: .always, source: nil)
            #expect(try await usage() == BucketUsage(bucket: "b", objects: 3, bytes: 106, uploads: 0), "a new version adds up")
            _ = try await index.deleteObject(bucket: "b", key: "k2")
            #expect(try await usage() == BucketUsage(bucket: "b", objects: 3, bytes: 106, uploads: 0), "a delete marker is not an object")
            try await index.createUpload(MultipartUpload(
                uploadID: "u", bucket: "b", key: "m", initiated: ObjectIndexContract.sampleDate, metadata: ObjectMetadata()))
            #expect(try await usage()?.uploads == 1)
            _ = try await index.abortUpload(bucket: "b", key: "m", uploadID: "u")
            #expect(try await usage()?.uploads == 0)
        },
    ]
}
