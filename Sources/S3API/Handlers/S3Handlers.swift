import Digest
import HummingbirdCore
import Logging
import ObjectStore

/// The API handlers, one file per operation family; this file is the one exhaustive dispatch.
struct S3Handlers: Sendable {
    let storage: Storage
    let configuration: S3ServerConfiguration
    let logger: Logger

    /// The canonical owner every bucket and object reports: this server has one account.
    var owner: (id: String, displayName: String) { Self.owner }
    static let owner = (id: SHA256.hash(Array("martlet".utf8)).hexString, displayName: "martlet")

    func handle(_ context: RequestContext, body: RequestBody) async throws -> S3Response {
        switch context.endpoint {
        case .listBuckets: return try await listBuckets(context)
        case .createBucket(let bucket): return try await createBucket(bucket, context, body: body)
        case .deleteBucket(let bucket): return try await deleteBucket(bucket)
        case .headBucket(let bucket): return try await headBucket(bucket)
        case .getBucketLocation(let bucket): return try await getBucketLocation(bucket)
        case .listObjectsV1(let bucket): return try await listObjects(bucket, context, version: .v1)
        case .listObjectsV2(let bucket): return try await listObjects(bucket, context, version: .v2)
        case .putObject(let bucket, let key): return try await putObject(bucket, key, context, body: body)
        case .getObject(let bucket, let key): return try await getObject(bucket, key, context, isHead: false)
        case .headObject(let bucket, let key): return try await getObject(bucket, key, context, isHead: true)
        case .deleteObject(let bucket, let key): return try await deleteObject(bucket, key)
        case .notImplemented(let operation):
            throw S3Error(.notImplemented, "\(operation) is not implemented by this server yet.")
        }
    }

    /// Checks a request whose body is object data before that body is read, so that `100 Continue` is
    /// sent only to uploads that can succeed.
    func planUpload(_ context: inout RequestContext) async throws {
        if case .putObject(let bucket, let key) = context.endpoint {
            context.putPlan = try await planPut(bucket, key, context)
        }
    }

    /// Throws NoSuchBucket unless the bucket exists.
    func requireBucket(_ name: String) async throws -> BucketInfo {
        guard let bucket = try await storage.index.bucket(named: name) else { throw S3Error.noSuchBucket(name) }
        return bucket
    }
}

extension RequestBody {
    /// Collects a small request document (XML configuration), refusing more than `limit` bytes.
    func collectDocument(limit: Int = 1 << 20, progress: BodyProgress) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await buffer in self {
            guard bytes.count + buffer.readableBytes <= limit else {
                throw S3Error(.malformedXML, "The XML you provided was larger than the maximum allowed size.")
            }
            bytes.append(contentsOf: buffer.readableBytesView)
        }
        progress.markFinished()
        return bytes
    }
}
