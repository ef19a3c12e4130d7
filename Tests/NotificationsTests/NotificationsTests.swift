import Foundation
import NIOCore
import ObjectStore
import Logging
import Testing

@testable import Notifications

@Suite("Notification delivery: event JSON, Redis replies and URLs, target specs")
struct NotificationsTests {
    @Test("keys are form-encoded in event messages", arguments: [
        ("plain.txt", "plain.txt"), ("dir/my file.jpg", "dir/my+file.jpg"), ("a+b", "a%2Bb"), ("é", "%C3%A9"),
        ("q?x=1&y", "q%3Fx%3D1%26y"), ("~tilde", "%7Etilde"),
    ])
    func keyEncoding(_ key: String, _ encoded: String) {
        #expect(EventJSON.encodeKey(key) == encoded)
    }

    @Test("the record carries AWS's fields, the sequencer from the outbox, and no s3: in the event name")
    func record() throws {
        let event = StoredEvent(
            eventName: "s3:ObjectCreated:Put", eventTime: Date(timeIntervalSince1970: 1_700_000_000.5), bucket: "b", key: "a b",
            size: 5, etag: "\"abc\"", versionID: "v1", configurationID: "c", requestID: "R", principalID: "AWS:K", sourceIP: "1.2.3.4",
            bucketOwner: "owner")
        let entry = OutboxEntry(sequence: 255, targetARN: "arn", event: event, attempts: 0, nextAttempt: .now, lastError: nil)
        let json = try JSONSerialization.jsonObject(with: Data(EventJSON.message(for: entry, region: "eu-west-1"))) as! [String: Any]
        let record = (json["Records"] as! [[String: Any]])[0]
        #expect(record["eventName"] as? String == "ObjectCreated:Put")
        #expect(record["eventTime"] as? String == "2023-11-14T22:13:20.500Z")
        #expect(record["awsRegion"] as? String == "eu-west-1")
        let s3 = record["s3"] as! [String: Any]
        let object = s3["object"] as! [String: Any]
        #expect(object["key"] as? String == "a+b")
        #expect(object["eTag"] as? String == "abc")
        #expect(object["sequencer"] as? String == "00000000000000FF")
        #expect((record["responseElements"] as! [String: String])["x-amz-request-id"] == "R")
        #expect(((s3["bucket"] as! [String: Any])["ownerIdentity"] as! [String: String])["principalId"] == "owner")
    }

    @Test("RESP replies parse whole, or wait for more bytes", arguments: [
        ("+OK\r\n", RESPReply.simple("OK")), ("-ERR wrong\r\n", .error("ERR wrong")), (":42\r\n", .integer(42)),
        ("$5\r\nhello\r\n", .bulk(Array("hello".utf8))), ("$-1\r\n", .bulk(nil)),
        ("*2\r\n$1\r\na\r\n:1\r\n", .array([.bulk([97]), .integer(1)])),
    ])
    func respReplies(_ text: String, _ reply: RESPReply) {
        var buffer = ByteBuffer(string: text)
        #expect(RESPParser.parse(&buffer) == reply)
        #expect(buffer.readableBytes == 0)
        for cut in 1..<text.utf8.count {
            var partial = ByteBuffer(bytes: Array(text.utf8.prefix(cut)))
            #expect(RESPParser.parse(&partial) == nil, "\(cut) bytes are not a reply")
        }
    }

    @Test("Redis URLs")
    func redisURLs() throws {
        let endpoint = try #require(RedisEndpoint(url: "redis://127.0.0.1:6380/2?stream=s"))
        #expect(endpoint.port == 6380 && endpoint.database == 2 && endpoint.stream == "s" && endpoint.password == nil)
        let full = try #require(RedisEndpoint(url: "redis://user:p%40ss@host"))
        #expect(full.user == "user" && full.password == "p@ss" && full.port == 6379 && full.stream == "martlet-events")
        #expect(RedisEndpoint(url: "http://host") == nil)
        #expect(RedisEndpoint(url: "redis://host/notanumber") == nil)
    }

    @Test("target specs are checked before the server starts", arguments: [
        (TargetSpec(id: "ok", kind: .webhook, url: "https://hooks.example/x"), true),
        (TargetSpec(id: "bad id", kind: .webhook, url: "https://hooks.example/x"), false),
        (TargetSpec(id: "ftp", kind: .webhook, url: "ftp://hooks.example/x"), false),
        (TargetSpec(id: "r", kind: .redis, url: "redis://127.0.0.1"), true),
        (TargetSpec(id: "r", kind: .redis, url: "http://127.0.0.1"), false),
        (TargetSpec(id: "slow", kind: .webhook, url: "http://h/", timeout: 0), false),
    ])
    func targetSpecs(_ spec: TargetSpec, _ valid: Bool) {
        #expect(((try? spec.validate()) != nil) == valid)
        #expect(spec.arn(region: "us-east-1") == "arn:martlet:sqs:us-east-1:\(spec.id):\(spec.kind.rawValue)")
    }

    @Test("backoff doubles to its cap, with jitter below the bound")
    func backoff() {
        var policy = DeliveryPolicy()
        policy.initialBackoff = 1
        policy.maxBackoff = 8
        for (attempts, bound) in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (10, 8.0), (100, 8.0)] {
            for _ in 0..<20 {
                let wait = policy.backoff(afterAttempts: attempts)
                #expect(wait >= bound / 2 && wait <= bound)
            }
        }
    }
}

/// An outbox of entries, for the delivery service's decisions without a database.
final class FixedOutbox: NotificationIndex, @unchecked Sendable {
    let entries: [OutboxEntry]
    let eventSignal = EventSignal()

    init(_ entries: [OutboxEntry]) { self.entries = entries }

    func setNotification(_ configuration: NotificationConfiguration?, bucket: String, testEvents: [(targetARN: String, event: StoredEvent)]) async throws {}
    func notification(bucket: String) async throws -> NotificationConfiguration? { nil }
    func pendingEvents(limit: Int) async throws -> [OutboxEntry] { Array(entries.prefix(limit)) }
    func finishEvents(_ sequences: [Int64]) async throws {}
    func deferEvent(_ sequence: Int64, attempts: Int, nextAttempt: Date, error: String, deadLetter: Bool) async throws {}
    func failedEvents(limit: Int) async throws -> [OutboxEntry] { [] }
    func retryFailedEvents(_ sequences: [Int64]?) async throws -> Int { 0 }
    func outboxDepth() async throws -> (pending: Int, failed: Int) { (entries.count, 0) }
    func bucketUsage() async throws -> [BucketUsage] { [] }
}

@Suite("The delivery service's rounds")
struct DeliveryRoundTests {
    @Test("a full page of entries all waiting out a backoff makes the service wait for the earliest retry, not read again at once")
    func blockedPageWaits() async throws {
        let now = Date()
        let entries = (1...1500).map { i in
            OutboxEntry(
                sequence: Int64(i), targetARN: "arn:martlet:sqs:us-east-1:hook:webhook",
                event: StoredEvent(eventName: "s3:ObjectCreated:Put", eventTime: now, bucket: "b", key: "k\(i)", configurationID: "c",
                                   requestID: "r", principalID: "p", sourceIP: ""),
                attempts: 3, nextAttempt: now.addingTimeInterval(0.5), lastError: "503")
        }
        let service = try DeliveryService(
            index: FixedOutbox(entries), targets: [TargetSpec(id: "hook", kind: .webhook, url: "http://127.0.0.1:9/")],
            region: "us-east-1", policy: DeliveryPolicy(), logger: Logger(label: "test"))
        let wait = try await service.round(now: now)
        await service.shutdown()
        #expect(wait >= .milliseconds(400) && wait <= .milliseconds(510))
    }
}
