import Foundation
import Synchronization

/// One entry of a bucket's notification configuration: which events, under which key filter, go to which
/// target. Kept as the client sent it, so GetBucketNotificationConfiguration answers the same document.
public struct NotificationRule: Sendable, Equatable, Codable {
    /// Which element of the document the rule came from; AWS keeps the three apart.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case queue = "Queue"
        case topic = "Topic"
        case lambda = "CloudFunction"
    }

    public var id: String
    public var kind: Kind
    public var targetARN: String
    /// Event types as given (`s3:ObjectCreated:*`, `s3:ObjectRemoved:Delete`).
    public var events: [String]
    public var prefix: String?
    public var suffix: String?

    public init(id: String, kind: Kind, targetARN: String, events: [String], prefix: String? = nil, suffix: String? = nil) {
        self.id = id
        self.kind = kind
        self.targetARN = targetARN
        self.events = events
        self.prefix = prefix
        self.suffix = suffix
    }

    /// Whether an event of this name about this key goes to the rule's target.
    public func matches(eventName: String, key: String) -> Bool {
        if let prefix, !key.hasPrefix(prefix) { return false }
        if let suffix, !key.hasSuffix(suffix) { return false }
        return events.contains { Self.pattern($0, matches: eventName) }
    }

    /// `s3:ObjectCreated:*` covers every `s3:ObjectCreated:` event; anything else names one event.
    public static func pattern(_ pattern: String, matches eventName: String) -> Bool {
        if pattern.hasSuffix(":*") { return eventName.hasPrefix(pattern.dropLast()) }
        return pattern == eventName
    }

    /// Whether some event both patterns cover: AWS refuses two rules that could send the same event about the
    /// same key.
    public static func patternsOverlap(_ a: String, _ b: String) -> Bool {
        if a == b { return true }
        if a.hasSuffix(":*") && b.hasPrefix(a.dropLast()) { return true }
        if b.hasSuffix(":*") && a.hasPrefix(b.dropLast()) { return true }
        return false
    }
}

/// A bucket's notification configuration.
public struct NotificationConfiguration: Sendable, Equatable, Codable {
    public var rules: [NotificationRule]
    /// `<EventBridgeConfiguration/>` was present: kept so it reads back, though no EventBridge exists here.
    public var eventBridge: Bool

    public init(rules: [NotificationRule], eventBridge: Bool = false) {
        self.rules = rules
        self.eventBridge = eventBridge
    }

    /// The event types S3 publishes that Martlet sends (restore, replication and Intelligent-Tiering have no
    /// counterpart here and are refused rather than silently never sent).
    public static let supportedEvents: Set<String> = [
        "s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy",
        "s3:ObjectCreated:CompleteMultipartUpload",
        "s3:ObjectRemoved:*", "s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated",
        "s3:LifecycleExpiration:*", "s3:LifecycleExpiration:Delete", "s3:LifecycleExpiration:DeleteMarkerCreated",
        "s3:ObjectTagging:*", "s3:ObjectTagging:Put", "s3:ObjectTagging:Delete",
        "s3:ObjectAcl:Put",
    ]
}

/// An event waiting in the outbox: what happened, to which object, at whose request. Rendered as AWS's event
/// JSON when it is sent; the outbox entry's sequence number becomes its `sequencer`.
public struct StoredEvent: Sendable, Equatable, Codable {
    public var eventName: String
    public var eventTime: Date
    public var bucket: String
    public var key: String
    public var size: Int64?
    public var etag: String?
    public var versionID: String?
    public var configurationID: String
    public var requestID: String
    public var principalID: String
    public var sourceIP: String
    /// The id of the account owning the bucket.
    public var bucketOwner: String?

    public init(
        eventName: String, eventTime: Date, bucket: String, key: String, size: Int64? = nil, etag: String? = nil,
        versionID: String? = nil, configurationID: String, requestID: String, principalID: String, sourceIP: String,
        bucketOwner: String? = nil
    ) {
        self.bucketOwner = bucketOwner
        self.eventName = eventName
        self.eventTime = eventTime
        self.bucket = bucket
        self.key = key
        self.size = size
        self.etag = etag
        self.versionID = versionID
        self.configurationID = configurationID
        self.requestID = requestID
        self.principalID = principalID
        self.sourceIP = sourceIP
    }

    /// `s3:TestEvent`, sent to each target when a configuration naming it is put.
    public static let testEventName = "s3:TestEvent"
    public var isTestEvent: Bool { eventName == Self.testEventName }
}

/// One outbox entry: an event for one target.
public struct OutboxEntry: Sendable, Equatable {
    public var sequence: Int64
    public var targetARN: String
    public var event: StoredEvent
    public var attempts: Int
    public var nextAttempt: Date
    public var lastError: String?

    public init(sequence: Int64, targetARN: String, event: StoredEvent, attempts: Int, nextAttempt: Date, lastError: String?) {
        self.sequence = sequence
        self.targetARN = targetARN
        self.event = event
        self.attempts = attempts
        self.nextAttempt = nextAttempt
        self.lastError = lastError
    }

    /// AWS's `sequencer`: hexadecimal, compared as strings to order events about one key.
    public var sequencer: String {
        let hex = String(sequence, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 16 - hex.count)) + hex
    }
}

/// Who or what is changing objects in the current task, for the events the change causes. The server sets it
/// around each request, the lifecycle service around its actions; the index reads it when it records events,
/// so no storage method needs a parameter for it.
public struct ChangeOrigin: Sendable {
    @TaskLocal public static var current: ChangeOrigin?

    /// How an object was created, which names the `s3:ObjectCreated:` event.
    public enum Creation: String, Sendable {
        case put = "Put", post = "Post", copy = "Copy", completeMultipartUpload = "CompleteMultipartUpload"
    }

    public var requestID: String
    public var principalID: String
    public var sourceIP: String
    public var creation: Creation
    /// Changes made by lifecycle rules are `s3:LifecycleExpiration:` events.
    public var isLifecycle: Bool

    public init(requestID: String, principalID: String, sourceIP: String, creation: Creation = .put, isLifecycle: Bool = false) {
        self.requestID = requestID
        self.principalID = principalID
        self.sourceIP = sourceIP
        self.creation = creation
        self.isLifecycle = isLifecycle
    }

    /// Lifecycle actions: S3 reports its own service as the principal.
    public static let lifecycle = ChangeOrigin(
        requestID: "", principalID: "s3.amazonaws.com", sourceIP: "", isLifecycle: true)

    /// Runs `body` with the current origin's creation kind replaced (a copy or a form upload stores through the
    /// same index call as a PUT).
    public static func creating<T>(_ creation: Creation, _ body: () async throws -> T) async rethrows -> T {
        guard var origin = current else { return try await body() }
        origin.creation = creation
        return try await $current.withValue(origin) { try await body() }
    }
}

/// What the index records for a change: the names of the events it causes.
public enum ChangeEvents {
    /// The event a write or delete caused, from what it did; nil if it changed nothing.
    public static func name(for change: IndexChange, origin: ChangeOrigin?) -> String? {
        if origin?.isLifecycle == true {
            if change.stored?.isDeleteMarker == true { return "s3:LifecycleExpiration:DeleteMarkerCreated" }
            return change.replaced == nil ? nil : "s3:LifecycleExpiration:Delete"
        }
        if let stored = change.stored {
            if stored.isDeleteMarker { return "s3:ObjectRemoved:DeleteMarkerCreated" }
            return "s3:ObjectCreated:" + (origin?.creation ?? .put).rawValue
        }
        return change.replaced == nil ? nil : "s3:ObjectRemoved:Delete"
    }

    /// The events of `name` about `record`, one per rule of `configuration` that takes it.
    public static func events(
        _ name: String, record: ObjectRecord, configuration: NotificationConfiguration, origin: ChangeOrigin?, at time: Date,
        bucketOwner: String? = nil
    ) -> [(targetARN: String, event: StoredEvent)] {
        configuration.rules.compactMap { rule in
            guard rule.matches(eventName: name, key: record.key) else { return nil }
            let isRemoval = name.hasPrefix("s3:ObjectRemoved:") || name.hasPrefix("s3:LifecycleExpiration:")
            return (rule.targetARN, StoredEvent(
                eventName: name, eventTime: time, bucket: record.bucket, key: record.key,
                size: isRemoval || record.isDeleteMarker ? nil : record.size,
                etag: isRemoval || record.isDeleteMarker ? nil : record.etag,
                versionID: record.versionID, configurationID: rule.id, requestID: origin?.requestID ?? "",
                principalID: origin?.principalID ?? "", sourceIP: origin?.sourceIP ?? "", bucketOwner: bucketOwner))
        }
    }
}

/// Wakes the delivery service when events are recorded, so it need not poll quickly to deliver promptly.
public final class EventSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    public init() {}

    public func notify() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.pending = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns at once if events were recorded since the last wait, else when they are or `timeout` passes.
    public func wait(timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let ready = self.state.withLock { state -> Bool in
                        if state.pending {
                            state.pending = false
                            return true
                        }
                        state.waiter?.resume()
                        state.waiter = continuation
                        return false
                    }
                    if ready { continuation.resume() }
                }
            }
            group.addTask {
                // Cancelled or not, the waiter must be resumed, or the group would wait for it forever.
                try? await Task.sleep(for: timeout)
                self.notify()
            }
            await group.next()
            group.cancelAll()
        }
    }
}

/// Objects, bytes and multipart uploads in progress of one bucket, kept as counters by the index.
public struct BucketUsage: Sendable, Equatable {
    public var bucket: String
    public var objects: Int64
    public var bytes: Int64
    public var uploads: Int64

    public init(bucket: String, objects: Int64, bytes: Int64, uploads: Int64) {
        self.bucket = bucket
        self.objects = objects
        self.bytes = bytes
        self.uploads = uploads
    }
}

/// The notification outbox and the counters the metrics read.
///
/// Every change that causes an event records it in the same transaction as the change: no committed change
/// lacks its event, no event exists for a change that rolled back.
public protocol NotificationIndex: Sendable {
    /// Replaces a bucket's notification configuration (nil removes it) and, in the same transaction, records
    /// `testEvents` (one `s3:TestEvent` per target). Throws ``StoreError/noSuchBucket``.
    func setNotification(_ configuration: NotificationConfiguration?, bucket: String, testEvents: [(targetARN: String, event: StoredEvent)]) async throws
    /// A bucket's notification configuration, nil if it has none. Throws ``StoreError/noSuchBucket``.
    func notification(bucket: String) async throws -> NotificationConfiguration?
    /// Entries waiting for delivery (not dead-lettered), in the order they were recorded, at most `limit`.
    func pendingEvents(limit: Int) async throws -> [OutboxEntry]
    /// Removes delivered entries.
    func finishEvents(_ sequences: [Int64]) async throws
    /// Records a failed attempt: the entry waits until `nextAttempt`, or with `deadLetter` moves to the failed list.
    func deferEvent(_ sequence: Int64, attempts: Int, nextAttempt: Date, error: String, deadLetter: Bool) async throws
    /// Dead-lettered entries, oldest first, at most `limit`.
    func failedEvents(limit: Int) async throws -> [OutboxEntry]
    /// Puts dead-lettered entries (all of them when `sequences` is nil) back in line; returns how many.
    func retryFailedEvents(_ sequences: [Int64]?) async throws -> Int
    /// Entries waiting and dead-lettered.
    func outboxDepth() async throws -> (pending: Int, failed: Int)
    /// Per-bucket counters, by bucket name.
    func bucketUsage() async throws -> [BucketUsage]
    /// Signalled after a transaction that recorded events commits.
    var eventSignal: EventSignal { get }
}
