import Foundation
import HTTPTypes
import HummingbirdCore
import ObjectStore
import S3Wire
import Synchronization

/// Get, Put and DeleteBucketLifecycleConfiguration, and the `x-amz-expiration` header the rules imply.
extension S3Handlers {
    func getBucketLifecycle(_ bucket: String) async throws -> S3Response {
        // From the index, not the cache: a client reading back what it just configured sees it on any node.
        guard let configuration = try await storage.index.lifecycle(bucket: bucket) else {
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
    /// `x-amz-expiration`. This node's handlers and the cluster's change feed forget what changes.
    func lifecycle(of bucket: String) async throws -> LifecycleConfiguration? {
        if let cached = lifecycles.lookup(bucket) { return cached }
        let generation = lifecycles.generation
        let configuration = try await storage.index.lifecycle(bucket: bucket)
        lifecycles.remember(configuration, for: bucket, loadedAt: generation)
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

/// Lifecycle configurations by bucket; `.some(nil)` remembers that a bucket has none. Each change bumps the
/// generation, and a load that began before a change is not kept, so a lookup never returns what a finished change
/// replaced.
final class LifecycleCache: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var entries: [String: LifecycleConfiguration?] = [:]
    }

    private let state = Mutex(State())
    private static let limit = 10_000

    var generation: UInt64 { state.withLock { $0.generation } }

    func lookup(_ bucket: String) -> LifecycleConfiguration?? {
        state.withLock { $0.entries[bucket] }
    }

    func remember(_ configuration: LifecycleConfiguration?, for bucket: String, loadedAt generation: UInt64) {
        state.withLock { state in
            guard state.generation == generation else { return }
            if state.entries.count >= Self.limit { state.entries.removeAll(keepingCapacity: true) }
            state.entries[bucket] = .some(configuration)
        }
    }

    func forget(_ bucket: String) {
        state.withLock { state in
            state.generation &+= 1
            state.entries[bucket] = nil
        }
    }

    func forgetAll() {
        state.withLock { state in
            state.generation &+= 1
            state.entries.removeAll(keepingCapacity: true)
        }
    }
}

extension HTTPField.Name {
    static let amzExpiration = HTTPField.Name("x-amz-expiration")!
    static let amzTransitionDefaultMinimumObjectSize = HTTPField.Name("x-amz-transition-default-minimum-object-size")!
}
