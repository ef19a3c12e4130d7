import Foundation
import HummingbirdCore
import ObjectStore
import S3Wire

/// Put/GetBucketNotificationConfiguration. Targets are configured on the server (`--webhook`, `--redis`, the
/// configuration file); a rule may only name one of theirs.
extension S3Handlers {
    func getBucketNotification(_ bucket: String) async throws -> S3Response {
        _ = try await requireBucket(bucket)
        return .xml(NotificationXML.write(try await storage.index.notification(bucket: bucket)))
    }

    func putBucketNotification(_ bucket: String, _ context: RequestContext, body: RequestBody) async throws -> S3Response {
        _ = try await requireBucket(bucket)
        let document = try await body.collectVerifiedDocument(context, limit: NotificationXML.maxDocumentBytes)
        let configuration = try NotificationXML.parse(document, knownTargets: configuration.notificationTargets)
        // Each target named gets an s3:TestEvent, recorded with the configuration in one transaction.
        var testEvents: [(targetARN: String, event: StoredEvent)] = []
        var seen: Set<String> = []
        for rule in configuration.rules where seen.insert(rule.targetARN).inserted {
            testEvents.append((rule.targetARN, StoredEvent(
                eventName: StoredEvent.testEventName, eventTime: Date(), bucket: bucket, key: "",
                configurationID: rule.id, requestID: context.requestID, principalID: "", sourceIP: "")))
        }
        try await storage.index.setNotification(
            configuration.rules.isEmpty && !configuration.eventBridge ? nil : configuration, bucket: bucket, testEvents: testEvents)
        return .empty(.ok)
    }
}
