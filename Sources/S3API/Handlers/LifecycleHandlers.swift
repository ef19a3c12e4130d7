import Foundation
import HTTPTypes
import HummingbirdCore
import ObjectStore
import S3Wire
import Synchronization

/// Get, Put and DeleteBucketLifecycleConfiguration, and the `x-amz-expiration` header the rules imply.
extension S3Handlers {
    func getBucketLifecycle(_ bucket: String) async throws -> S3Response {
        guard let configuration = try await lifecycle(of: bucket) else {
            throw S3Error(.noSuchLifecycleConfiguration, details: [("BucketName", bucket)])
        }
        var xml = XMLWriter()
        LifecycleXML.write(configuration, into: &xml)
        return .xml(xml)
    }

    func putBucketLifecycle(_ bucket: String, _ context: RequestContext, body: RequestBody) async throws -> S3Response {
        _ = try await requireBucket(bucket)
        let document = try await body.collectVerifiedDocument(context, limit: 1 << 20)
        let configuration = try LifecycleXML.parse(document)
        try await storage.index.setLifecycle(configuration, bucket: bucket)
        lifecycles.forget(bucket)
        var headers = HTTPFields()
        headers[.amzTransitionDefaultMinimumObjectSize] = "all_storage_classes_128K"
        return .empty(.ok, headers: headers)
    }

    func deleteBucketLifecycle(_ bucket: String) async throws -> S3Response {
        try await storage.index.setLifecycle(nil, bucket: bucket)
        lifecycles.forget(bucket)
        return .empty(.noContent)
    }

    /// A bucket's lifecycle configuration, read through a cache: GET, HEAD and PUT consult it for
    /// `x-amz-expiration`, and it changes only through this server's own handlers.
    func lifecycle(of bucket: String) async throws -> LifecycleConfiguration? {
        if let cached = lifecycles.lookup(bucket) { return cached }
        let configuration = try await storage.index.lifecycle(bucket: bucket)
        lifecycles.remember(configuration, for: bucket)
        return configuration
    }

    /// `x-amz-expiration` for the current object `record`, if an expiration rule applies to it.
    func addExpirationHeader(for record: ObjectRecord, to headers: inout HTTPFields) async throws {
        guard let configuration = try await lifecycle(of: record.bucket),
              let (date, ruleID) = configuration.expiration(of: record, clock: LifecycleClock(daySeconds: self.configuration.lifecycleDaySeconds))
        else { return }
        headers[.amzExpiration] = "expiry-date=\"\(HTTPDate.rfc1123(date))\", rule-id=\"\(ruleID)\""
    }
}

/// Lifecycle configurations by bucket; `.some(nil)` remembers that a bucket has none.
final class LifecycleCache: Sendable {
    private let entries = Mutex<[String: LifecycleConfiguration?]>([:])

    func lookup(_ bucket: String) -> LifecycleConfiguration?? {
        entries.withLock { $0[bucket] }
    }

    func remember(_ configuration: LifecycleConfiguration?, for bucket: String) {
        entries.withLock { $0[bucket] = .some(configuration) }
    }

    func forget(_ bucket: String) {
        _ = entries.withLock { $0.removeValue(forKey: bucket) }
    }

    func forgetAll() {
        entries.withLock { $0.removeAll(keepingCapacity: true) }
    }
}

extension HTTPField.Name {
    static let amzExpiration = HTTPField.Name("x-amz-expiration")!
    static let amzTransitionDefaultMinimumObjectSize = HTTPField.Name("x-amz-transition-default-minimum-object-size")!
}
