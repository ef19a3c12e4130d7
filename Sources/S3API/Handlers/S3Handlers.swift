import Digest
import HummingbirdCore
import Logging
import ObjectStore
import S3Auth
import S3Wire

/// The API handlers, one file per operation family; this file is the one exhaustive dispatch.
struct S3Handlers: Sendable {
    let storage: Storage
    let configuration: S3ServerConfiguration
    let logger: Logger
    let authorizer: Authorizer
    /// Checks the signatures of POST forms, which arrive in the body rather than the request's head.
    let authenticator: RequestAuthenticator
    let lifecycles = LifecycleCache()
    let storageGauges = StorageGauges()

    /// An owner as listings show it: the account's canonical id and display name.
    struct Owner {
        var id: String
        var displayName: String
    }

    func owner(ofAccount id: String?) -> Owner {
        guard let id, let account = authorizer.directory.account(id: id) else { return Owner(id: "", displayName: "") }
        return Owner(id: account.canonicalID, displayName: account.displayName)
    }

    /// The bucket's owner, which (with ACLs disabled, the default) owns every object in it.
    func bucketOwner(_ bucket: String) async -> Owner {
        let access = (try? await authorizer.bucketAccess(bucket)) ?? nil
        return owner(ofAccount: access?.owner?.id)
    }

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
        case .deleteObject(let bucket, let key): return try await deleteObject(bucket, key, context)
        case .copyObject(let bucket, let key): return try await copyObject(bucket, key, context)
        case .deleteObjects(let bucket): return try await deleteObjects(bucket, context, body: body)
        case .postObject(let bucket): return try await postObject(bucket, context, body: body)
        case .getObjectAttributes(let bucket, let key): return try await getObjectAttributes(bucket, key, context)
        case .createMultipartUpload(let bucket, let key): return try await createMultipartUpload(bucket, key, context)
        case .uploadPart(let bucket, let key, let uploadID): return try await uploadPart(bucket, key, uploadID: uploadID, context, body: body)
        case .uploadPartCopy(let bucket, let key, let uploadID): return try await uploadPartCopy(bucket, key, uploadID: uploadID, context)
        case .completeMultipartUpload(let bucket, let key, let uploadID):
            return try await completeMultipartUpload(bucket, key, uploadID: uploadID, context, body: body)
        case .abortMultipartUpload(let bucket, let key, let uploadID): return try await abortMultipartUpload(bucket, key, uploadID: uploadID)
        case .listParts(let bucket, let key, let uploadID): return try await listParts(bucket, key, uploadID: uploadID, context)
        case .listMultipartUploads(let bucket): return try await listMultipartUploads(bucket, context)
        case .getBucketVersioning(let bucket): return try await getBucketVersioning(bucket)
        case .putBucketVersioning(let bucket): return try await putBucketVersioning(bucket, context, body: body)
        case .listObjectVersions(let bucket): return try await listObjectVersions(bucket, context)
        case .getObjectTagging(let bucket, let key): return try await getObjectTagging(bucket, key, context)
        case .putObjectTagging(let bucket, let key): return try await putObjectTagging(bucket, key, context, body: body)
        case .deleteObjectTagging(let bucket, let key): return try await deleteObjectTagging(bucket, key, context)
        case .getBucketTagging(let bucket): return try await getBucketTagging(bucket)
        case .putBucketTagging(let bucket): return try await putBucketTagging(bucket, context, body: body)
        case .deleteBucketTagging(let bucket): return try await deleteBucketTagging(bucket)
        case .getBucketLifecycle(let bucket): return try await getBucketLifecycle(bucket)
        case .putBucketLifecycle(let bucket): return try await putBucketLifecycle(bucket, context, body: body)
        case .deleteBucketLifecycle(let bucket): return try await deleteBucketLifecycle(bucket)
        case .getObjectLockConfiguration(let bucket): return try await getObjectLockConfiguration(bucket)
        case .putObjectLockConfiguration(let bucket): return try await putObjectLockConfiguration(bucket, context, body: body)
        case .getObjectRetention(let bucket, let key): return try await getObjectRetention(bucket, key, context)
        case .putObjectRetention(let bucket, let key): return try await putObjectRetention(bucket, key, context, body: body)
        case .getObjectLegalHold(let bucket, let key): return try await getObjectLegalHold(bucket, key, context)
        case .putObjectLegalHold(let bucket, let key): return try await putObjectLegalHold(bucket, key, context, body: body)
        case .getObjectTorrent(let bucket, let key): return try await getObjectTorrent(bucket, key, context)
        case .getBucketPolicy(let bucket): return try await getBucketPolicy(bucket)
        case .putBucketPolicy(let bucket): return try await putBucketPolicy(bucket, context, body: body)
        case .deleteBucketPolicy(let bucket): return try await deleteBucketPolicy(bucket)
        case .getBucketPolicyStatus(let bucket): return try await getBucketPolicyStatus(bucket)
        case .admin(let path): return try await admin(path, context, body: body)
        case .getBucketAcl(let bucket): return try await getBucketAcl(bucket)
        case .putBucketAcl(let bucket): return try await putBucketAcl(bucket, context, body: body)
        case .getObjectAcl(let bucket, let key): return try await getObjectAcl(bucket, key, context)
        case .putObjectAcl(let bucket, let key): return try await putObjectAcl(bucket, key, context, body: body)
        case .getBucketOwnershipControls(let bucket): return try await getBucketOwnershipControls(bucket)
        case .putBucketOwnershipControls(let bucket): return try await putBucketOwnershipControls(bucket, context, body: body)
        case .deleteBucketOwnershipControls(let bucket): return try await deleteBucketOwnershipControls(bucket)
        case .getPublicAccessBlock(let bucket): return try await getPublicAccessBlock(bucket)
        case .putPublicAccessBlock(let bucket): return try await putPublicAccessBlock(bucket, context, body: body)
        case .deletePublicAccessBlock(let bucket): return try await deletePublicAccessBlock(bucket)
        case .getBucketCors(let bucket): return try await getBucketCors(bucket)
        case .putBucketCors(let bucket): return try await putBucketCors(bucket, context, body: body)
        case .deleteBucketCors(let bucket): return try await deleteBucketCors(bucket)
        case .getBucketWebsite(let bucket): return try await getBucketWebsite(bucket)
        case .putBucketWebsite(let bucket): return try await putBucketWebsite(bucket, context, body: body)
        case .deleteBucketWebsite(let bucket): return try await deleteBucketWebsite(bucket)
        case .getBucketEncryption(let bucket): return try await getBucketEncryption(bucket)
        case .putBucketEncryption(let bucket): return try await putBucketEncryption(bucket, context, body: body)
        case .deleteBucketEncryption(let bucket): return try await deleteBucketEncryption(bucket)
        case .getBucketNotificationConfiguration(let bucket): return try await getBucketNotification(bucket)
        case .putBucketNotificationConfiguration(let bucket): return try await putBucketNotification(bucket, context, body: body)
        case .notImplemented(let operation):
            throw S3Error(.notImplemented, "\(operation) is not implemented by this server yet.")
        }
    }

    /// Checks a request whose body is object data before that body is read, so that `100 Continue` is
    /// sent only to uploads that can succeed.
    func planUpload(_ context: inout RequestContext) async throws {
        switch context.endpoint {
        case .putObject(let bucket, let key): context.putPlan = try await planPut(bucket, key, context)
        case .uploadPart(let bucket, let key, let uploadID): context.partPlan = try await planPart(bucket, key, uploadID: uploadID, context)
        default: break
        }
    }

    /// S3 insists on an integrity check for requests that change what protects data (and for DeleteObjects):
    /// Content-MD5 or, from newer SDKs, an `x-amz-checksum-*` header or trailer.
    static func requireIntegrityCheck(_ context: RequestContext) throws(S3Error) {
        let hasChecksum = context.headers.contains { field in ChecksumAlgorithm(headerName: field.name.canonicalName) != nil }
        let trailerChecksum: Bool = if case .chunked(let config) = context.auth.payload {
            config.trailerNames.contains { ChecksumAlgorithm(headerName: $0) != nil }
        } else { false }
        guard context.header("Content-MD5") != nil || hasChecksum || trailerChecksum else {
            throw S3Error(.invalidRequest, "Missing required header for this request: Content-MD5")
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
    func collectDocument(limit: Int = 64 << 10, progress: BodyProgress) async throws -> [UInt8] {
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

extension RequestBody {
    /// Collects a small request document, verifying what the request promised about it: the signed SHA-256,
    /// Content-MD5, or an `x-amz-checksum-*` header or aws-chunked trailer (BadDigest on a mismatch).
    /// `checksumHeadersDescribeBody` is false where those headers describe something else (CompleteMultipartUpload's
    /// name the object's checksum).
    func collectVerifiedDocument(_ context: RequestContext, limit: Int, checksumHeadersDescribeBody: Bool = true) async throws -> [UInt8] {
        var decoder: AWSChunkedDecoder? = nil
        if case .chunked(let config) = context.auth.payload { decoder = AWSChunkedDecoder(config: config) }
        var bytes: [UInt8] = []
        for try await buffer in self {
            let pieces = if decoder != nil { try decoder!.decode(buffer) } else { [buffer] }
            for piece in pieces {
                guard bytes.count + piece.readableBytes <= limit else {
                    throw S3Error(.malformedXML, "The XML you provided was larger than the maximum allowed size.")
                }
                bytes.append(contentsOf: piece.readableBytesView)
            }
        }
        context.bodyProgress.markFinished()
        let trailers = try decoder?.finish() ?? [:]
        if case .sha256(let claimed) = context.auth.payload {
            let computed = SHA256.hash(bytes).hexString
            if computed != claimed.lowercased() {
                throw S3Error(.xAmzContentSHA256Mismatch, details: [
                    ("ClientComputedContentSHA256", claimed), ("S3ComputedContentSHA256", computed),
                ])
            }
        }
        if let contentMD5 = context.header("Content-MD5") {
            guard let claimed = decodeBase64(contentMD5), claimed.count == 16 else { throw S3Error(.invalidDigest) }
            var md5 = MD5()
            md5.update(bytes)
            if claimed != md5.finalize() { throw S3Error(.badDigest) }
        }
        guard checksumHeadersDescribeBody else { return bytes }
        let trailerNames: [String] = if case .chunked(let config) = context.auth.payload { config.trailerNames } else { [] }
        let expectation = try ChecksumExpectation.from(context, trailerNames: trailerNames)
        if let claimed = try expectation.claimedValue(trailers: trailers) {
            var digest = expectation.algorithm.makeDigest()
            digest.update(bytes)
            if digest.finalize().base64String != claimed {
                throw S3Error(.badDigest, "The \(expectation.algorithm.rawValue) you specified did not match the calculated checksum.")
            }
        }
        return bytes
    }
}
