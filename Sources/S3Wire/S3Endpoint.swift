import HTTPTypes

/// Every S3 operation this server routes, parsed from method, target, query keys and headers before any
/// handler runs; one exhaustive switch then dispatches it.
public enum S3Endpoint: Sendable, Equatable {
    case listBuckets
    case createBucket(bucket: String)
    case deleteBucket(bucket: String)
    case headBucket(bucket: String)
    case getBucketLocation(bucket: String)
    case listObjectsV1(bucket: String)
    case listObjectsV2(bucket: String)
    case putObject(bucket: String, key: String)
    case getObject(bucket: String, key: String)
    case headObject(bucket: String, key: String)
    case deleteObject(bucket: String, key: String)
    case copyObject(bucket: String, key: String)
    case deleteObjects(bucket: String)
    /// A browser form upload (`multipart/form-data`), authenticated by its own fields.
    case postObject(bucket: String)
    case getObjectAttributes(bucket: String, key: String)
    case createMultipartUpload(bucket: String, key: String)
    case uploadPart(bucket: String, key: String, uploadID: String)
    case uploadPartCopy(bucket: String, key: String, uploadID: String)
    case completeMultipartUpload(bucket: String, key: String, uploadID: String)
    case abortMultipartUpload(bucket: String, key: String, uploadID: String)
    case listParts(bucket: String, key: String, uploadID: String)
    case listMultipartUploads(bucket: String)
    case getBucketVersioning(bucket: String)
    case putBucketVersioning(bucket: String)
    case listObjectVersions(bucket: String)
    case getObjectTagging(bucket: String, key: String)
    case putObjectTagging(bucket: String, key: String)
    case deleteObjectTagging(bucket: String, key: String)
    case getBucketTagging(bucket: String)
    case putBucketTagging(bucket: String)
    case deleteBucketTagging(bucket: String)
    case getBucketLifecycle(bucket: String)
    case putBucketLifecycle(bucket: String)
    case deleteBucketLifecycle(bucket: String)
    case getObjectLockConfiguration(bucket: String)
    case putObjectLockConfiguration(bucket: String)
    case getObjectRetention(bucket: String, key: String)
    case putObjectRetention(bucket: String, key: String)
    case getObjectLegalHold(bucket: String, key: String)
    case putObjectLegalHold(bucket: String, key: String)
    case getObjectTorrent(bucket: String, key: String)
    case getBucketPolicy(bucket: String)
    case putBucketPolicy(bucket: String)
    case deleteBucketPolicy(bucket: String)
    case getBucketPolicyStatus(bucket: String)
    case getBucketAcl(bucket: String)
    case putBucketAcl(bucket: String)
    case getObjectAcl(bucket: String, key: String)
    case putObjectAcl(bucket: String, key: String)
    case getBucketOwnershipControls(bucket: String)
    case putBucketOwnershipControls(bucket: String)
    case deleteBucketOwnershipControls(bucket: String)
    case getPublicAccessBlock(bucket: String)
    case putPublicAccessBlock(bucket: String)
    case deletePublicAccessBlock(bucket: String)
    case getBucketCors(bucket: String)
    case putBucketCors(bucket: String)
    case deleteBucketCors(bucket: String)
    case getBucketWebsite(bucket: String)
    case putBucketWebsite(bucket: String)
    case deleteBucketWebsite(bucket: String)
    case getBucketEncryption(bucket: String)
    case putBucketEncryption(bucket: String)
    case deleteBucketEncryption(bucket: String)
    case getBucketNotificationConfiguration(bucket: String)
    case putBucketNotificationConfiguration(bucket: String)
    /// Martlet's own account administration, under `/_martlet/admin/` (no bucket can be named `_martlet`): the
    /// path after that prefix.
    case admin(path: String)
    /// A real S3 operation this server does not offer yet: answered 501 NotImplemented.
    case notImplemented(operation: String)

    /// The first path segment of Martlet's admin API: underscores are not allowed in bucket names.
    public static let adminBucket = "_martlet"

    /// Bucket sub-resources, by query key, with the operation family they name.
    static let bucketSubresources: [String: String] = [
        "accelerate": "BucketAccelerate", "acl": "BucketAcl", "analytics": "BucketAnalytics", "cors": "BucketCors",
        "delete": "DeleteObjects", "encryption": "BucketEncryption", "intelligent-tiering": "BucketIntelligentTiering",
        "inventory": "BucketInventory", "lifecycle": "BucketLifecycle", "location": "BucketLocation", "logging": "BucketLogging",
        "metadataTable": "BucketMetadataTable", "metrics": "BucketMetrics", "notification": "BucketNotification",
        "object-lock": "ObjectLockConfiguration", "ownershipControls": "BucketOwnershipControls",
        "policy": "BucketPolicy", "policyStatus": "BucketPolicyStatus", "publicAccessBlock": "PublicAccessBlock",
        "replication": "BucketReplication", "requestPayment": "BucketRequestPayment", "session": "CreateSession",
        "tagging": "BucketTagging", "uploads": "ListMultipartUploads", "versioning": "BucketVersioning",
        "versions": "ListObjectVersions", "website": "BucketWebsite",
    ]

    /// Object sub-resources, by query key.
    static let objectSubresources: [String: String] = [
        "acl": "ObjectAcl", "attributes": "GetObjectAttributes", "legal-hold": "ObjectLegalHold",
        "restore": "RestoreObject", "retention": "ObjectRetention", "select": "SelectObjectContent",
        "tagging": "ObjectTagging", "torrent": "GetObjectTorrent", "uploadId": "MultipartUpload",
        "uploads": "CreateMultipartUpload",
    ]

    public static func parse(
        method: HTTPRequest.Method, target: RequestTarget, query: QueryParameters, headers: HTTPFields
    ) throws(S3Error) -> S3Endpoint {
        guard let bucket = target.bucket else {
            guard method == .get else { throw S3Error(.methodNotAllowed) }
            return .listBuckets
        }
        if bucket == adminBucket { return .admin(path: target.key ?? "") }
        guard let key = target.key else {
            return try parseBucket(method: method, bucket: bucket, query: query)
        }
        return try parseObject(method: method, bucket: bucket, key: key, query: query, headers: headers)
    }

    private static func parseBucket(method: HTTPRequest.Method, bucket: String, query: QueryParameters) throws(S3Error) -> S3Endpoint {
        let subresource = query.items.lazy.compactMap { bucketSubresources[$0.name] != nil ? $0.name : nil }.first
        switch (method, subresource) {
        case (.get, "location"): return .getBucketLocation(bucket: bucket)
        case (.get, "uploads"): return .listMultipartUploads(bucket: bucket)
        case (.get, "versioning"): return .getBucketVersioning(bucket: bucket)
        case (.put, "versioning"): return .putBucketVersioning(bucket: bucket)
        case (.get, "versions"): return .listObjectVersions(bucket: bucket)
        case (.get, "tagging"): return .getBucketTagging(bucket: bucket)
        case (.put, "tagging"): return .putBucketTagging(bucket: bucket)
        case (.delete, "tagging"): return .deleteBucketTagging(bucket: bucket)
        case (.get, "lifecycle"): return .getBucketLifecycle(bucket: bucket)
        case (.put, "lifecycle"): return .putBucketLifecycle(bucket: bucket)
        case (.delete, "lifecycle"): return .deleteBucketLifecycle(bucket: bucket)
        case (.get, "object-lock"): return .getObjectLockConfiguration(bucket: bucket)
        case (.put, "object-lock"): return .putObjectLockConfiguration(bucket: bucket)
        case (.post, "delete"): return .deleteObjects(bucket: bucket)
        case (.get, "policy"): return .getBucketPolicy(bucket: bucket)
        case (.put, "policy"): return .putBucketPolicy(bucket: bucket)
        case (.delete, "policy"): return .deleteBucketPolicy(bucket: bucket)
        case (.get, "policyStatus"): return .getBucketPolicyStatus(bucket: bucket)
        case (.get, "cors"): return .getBucketCors(bucket: bucket)
        case (.put, "cors"): return .putBucketCors(bucket: bucket)
        case (.delete, "cors"): return .deleteBucketCors(bucket: bucket)
        case (.get, "website"): return .getBucketWebsite(bucket: bucket)
        case (.put, "website"): return .putBucketWebsite(bucket: bucket)
        case (.delete, "website"): return .deleteBucketWebsite(bucket: bucket)
        case (.get, "encryption"): return .getBucketEncryption(bucket: bucket)
        case (.put, "encryption"): return .putBucketEncryption(bucket: bucket)
        case (.delete, "encryption"): return .deleteBucketEncryption(bucket: bucket)
        case (.get, "notification"): return .getBucketNotificationConfiguration(bucket: bucket)
        case (.put, "notification"): return .putBucketNotificationConfiguration(bucket: bucket)
        case (.get, "acl"): return .getBucketAcl(bucket: bucket)
        case (.put, "acl"): return .putBucketAcl(bucket: bucket)
        case (.get, "ownershipControls"): return .getBucketOwnershipControls(bucket: bucket)
        case (.put, "ownershipControls"): return .putBucketOwnershipControls(bucket: bucket)
        case (.delete, "ownershipControls"): return .deleteBucketOwnershipControls(bucket: bucket)
        case (.get, "publicAccessBlock"): return .getPublicAccessBlock(bucket: bucket)
        case (.put, "publicAccessBlock"): return .putPublicAccessBlock(bucket: bucket)
        case (.delete, "publicAccessBlock"): return .deletePublicAccessBlock(bucket: bucket)
        case (.get, nil): return query["list-type"] == "2" ? .listObjectsV2(bucket: bucket) : .listObjectsV1(bucket: bucket)
        case (.put, nil): return .createBucket(bucket: bucket)
        case (.delete, nil): return .deleteBucket(bucket: bucket)
        case (.head, _): return .headBucket(bucket: bucket)
        case (.post, nil): return .postObject(bucket: bucket)
        case (.get, let name?), (.put, let name?), (.delete, let name?), (.post, let name?):
            return .notImplemented(operation: "\(method.rawValue) \(bucketSubresources[name] ?? name)")
        default: throw S3Error(.methodNotAllowed)
        }
    }

    private static func parseObject(
        method: HTTPRequest.Method, bucket: String, key: String, query: QueryParameters, headers: HTTPFields
    ) throws(S3Error) -> S3Endpoint {
        let subresource = query.items.lazy.compactMap { objectSubresources[$0.name] != nil ? $0.name : nil }.first
        let copySource = headers[HTTPField.Name("x-amz-copy-source")!] != nil
        if let uploadID = query["uploadId"] {
            switch method {
            case .put:
                return copySource
                    ? .uploadPartCopy(bucket: bucket, key: key, uploadID: uploadID)
                    : .uploadPart(bucket: bucket, key: key, uploadID: uploadID)
            case .post: return .completeMultipartUpload(bucket: bucket, key: key, uploadID: uploadID)
            case .delete: return .abortMultipartUpload(bucket: bucket, key: key, uploadID: uploadID)
            case .get: return .listParts(bucket: bucket, key: key, uploadID: uploadID)
            default: throw S3Error(.methodNotAllowed)
            }
        }
        switch (method, subresource) {
        case (.put, nil):
            return copySource ? .copyObject(bucket: bucket, key: key) : .putObject(bucket: bucket, key: key)
        case (.post, "uploads"): return .createMultipartUpload(bucket: bucket, key: key)
        case (.get, "attributes"): return .getObjectAttributes(bucket: bucket, key: key)
        case (.get, "tagging"): return .getObjectTagging(bucket: bucket, key: key)
        case (.put, "tagging"): return .putObjectTagging(bucket: bucket, key: key)
        case (.delete, "tagging"): return .deleteObjectTagging(bucket: bucket, key: key)
        case (.get, "retention"): return .getObjectRetention(bucket: bucket, key: key)
        case (.put, "retention"): return .putObjectRetention(bucket: bucket, key: key)
        case (.get, "legal-hold"): return .getObjectLegalHold(bucket: bucket, key: key)
        case (.put, "legal-hold"): return .putObjectLegalHold(bucket: bucket, key: key)
        case (.get, "torrent"): return .getObjectTorrent(bucket: bucket, key: key)
        case (.get, "acl"): return .getObjectAcl(bucket: bucket, key: key)
        case (.put, "acl"): return .putObjectAcl(bucket: bucket, key: key)
        case (.get, nil): return .getObject(bucket: bucket, key: key)
        case (.head, nil): return .headObject(bucket: bucket, key: key)
        case (.delete, nil): return .deleteObject(bucket: bucket, key: key)
        case (.get, let name?), (.put, let name?), (.delete, let name?), (.post, let name?), (.head, let name?):
            return .notImplemented(operation: "\(method.rawValue) \(objectSubresources[name] ?? name)")
        default: throw S3Error(.methodNotAllowed)
        }
    }

    /// Operations whose request body is object data, for which `Expect: 100-continue` is answered.
    public var streamsRequestBody: Bool {
        switch self {
        case .putObject, .uploadPart, .postObject: true
        default: false
        }
    }

    /// The bucket and key the operation names, for error `<Resource>` and logging.
    public var bucketAndKey: (bucket: String?, key: String?) {
        switch self {
        case .listBuckets, .notImplemented, .admin: (nil, nil)
        case .createBucket(let b), .deleteBucket(let b), .headBucket(let b), .getBucketLocation(let b),
             .listObjectsV1(let b), .listObjectsV2(let b), .deleteObjects(let b), .postObject(let b), .listMultipartUploads(let b),
             .getBucketVersioning(let b), .putBucketVersioning(let b), .listObjectVersions(let b),
             .getBucketTagging(let b), .putBucketTagging(let b), .deleteBucketTagging(let b),
             .getBucketLifecycle(let b), .putBucketLifecycle(let b), .deleteBucketLifecycle(let b),
             .getObjectLockConfiguration(let b), .putObjectLockConfiguration(let b),
             .getBucketPolicy(let b), .putBucketPolicy(let b), .deleteBucketPolicy(let b), .getBucketPolicyStatus(let b),
             .getBucketAcl(let b), .putBucketAcl(let b), .getBucketOwnershipControls(let b), .putBucketOwnershipControls(let b),
             .deleteBucketOwnershipControls(let b), .getPublicAccessBlock(let b), .putPublicAccessBlock(let b),
             .deletePublicAccessBlock(let b), .getBucketCors(let b), .putBucketCors(let b), .deleteBucketCors(let b),
             .getBucketWebsite(let b), .putBucketWebsite(let b), .deleteBucketWebsite(let b),
             .getBucketEncryption(let b), .putBucketEncryption(let b), .deleteBucketEncryption(let b),
             .getBucketNotificationConfiguration(let b), .putBucketNotificationConfiguration(let b):
            (b, nil)
        case .putObject(let b, let k), .getObject(let b, let k), .headObject(let b, let k), .deleteObject(let b, let k),
             .copyObject(let b, let k), .getObjectAttributes(let b, let k), .createMultipartUpload(let b, let k),
             .uploadPart(let b, let k, _), .uploadPartCopy(let b, let k, _), .completeMultipartUpload(let b, let k, _),
             .abortMultipartUpload(let b, let k, _), .listParts(let b, let k, _),
             .getObjectTagging(let b, let k), .putObjectTagging(let b, let k), .deleteObjectTagging(let b, let k),
             .getObjectRetention(let b, let k), .putObjectRetention(let b, let k),
             .getObjectLegalHold(let b, let k), .putObjectLegalHold(let b, let k), .getObjectTorrent(let b, let k),
             .getObjectAcl(let b, let k), .putObjectAcl(let b, let k):
            (b, k)
        }
    }
}

extension S3Endpoint {
    /// The operation's name as AWS spells it (`GetObject`, `PutBucketEncryption`), for metrics and logs.
    public var operationName: String {
        switch self {
        case .listBuckets: "ListBuckets"
        case .createBucket: "CreateBucket"
        case .deleteBucket: "DeleteBucket"
        case .headBucket: "HeadBucket"
        case .getBucketLocation: "GetBucketLocation"
        case .listObjectsV1: "ListObjectsV1"
        case .listObjectsV2: "ListObjectsV2"
        case .putObject: "PutObject"
        case .getObject: "GetObject"
        case .headObject: "HeadObject"
        case .deleteObject: "DeleteObject"
        case .copyObject: "CopyObject"
        case .deleteObjects: "DeleteObjects"
        case .postObject: "PostObject"
        case .getObjectAttributes: "GetObjectAttributes"
        case .createMultipartUpload: "CreateMultipartUpload"
        case .uploadPart: "UploadPart"
        case .uploadPartCopy: "UploadPartCopy"
        case .completeMultipartUpload: "CompleteMultipartUpload"
        case .abortMultipartUpload: "AbortMultipartUpload"
        case .listParts: "ListParts"
        case .listMultipartUploads: "ListMultipartUploads"
        case .getBucketVersioning: "GetBucketVersioning"
        case .putBucketVersioning: "PutBucketVersioning"
        case .listObjectVersions: "ListObjectVersions"
        case .getObjectTagging: "GetObjectTagging"
        case .putObjectTagging: "PutObjectTagging"
        case .deleteObjectTagging: "DeleteObjectTagging"
        case .getBucketTagging: "GetBucketTagging"
        case .putBucketTagging: "PutBucketTagging"
        case .deleteBucketTagging: "DeleteBucketTagging"
        case .getBucketLifecycle: "GetBucketLifecycle"
        case .putBucketLifecycle: "PutBucketLifecycle"
        case .deleteBucketLifecycle: "DeleteBucketLifecycle"
        case .getObjectLockConfiguration: "GetObjectLockConfiguration"
        case .putObjectLockConfiguration: "PutObjectLockConfiguration"
        case .getObjectRetention: "GetObjectRetention"
        case .putObjectRetention: "PutObjectRetention"
        case .getObjectLegalHold: "GetObjectLegalHold"
        case .putObjectLegalHold: "PutObjectLegalHold"
        case .getObjectTorrent: "GetObjectTorrent"
        case .getBucketPolicy: "GetBucketPolicy"
        case .putBucketPolicy: "PutBucketPolicy"
        case .deleteBucketPolicy: "DeleteBucketPolicy"
        case .getBucketPolicyStatus: "GetBucketPolicyStatus"
        case .getBucketAcl: "GetBucketAcl"
        case .putBucketAcl: "PutBucketAcl"
        case .getObjectAcl: "GetObjectAcl"
        case .putObjectAcl: "PutObjectAcl"
        case .getBucketOwnershipControls: "GetBucketOwnershipControls"
        case .putBucketOwnershipControls: "PutBucketOwnershipControls"
        case .deleteBucketOwnershipControls: "DeleteBucketOwnershipControls"
        case .getPublicAccessBlock: "GetPublicAccessBlock"
        case .putPublicAccessBlock: "PutPublicAccessBlock"
        case .deletePublicAccessBlock: "DeletePublicAccessBlock"
        case .getBucketCors: "GetBucketCors"
        case .putBucketCors: "PutBucketCors"
        case .deleteBucketCors: "DeleteBucketCors"
        case .getBucketWebsite: "GetBucketWebsite"
        case .putBucketWebsite: "PutBucketWebsite"
        case .deleteBucketWebsite: "DeleteBucketWebsite"
        case .getBucketEncryption: "GetBucketEncryption"
        case .putBucketEncryption: "PutBucketEncryption"
        case .deleteBucketEncryption: "DeleteBucketEncryption"
        case .getBucketNotificationConfiguration: "GetBucketNotificationConfiguration"
        case .putBucketNotificationConfiguration: "PutBucketNotificationConfiguration"
        case .admin: "Admin"
        case .notImplemented: "NotImplemented"
        }
    }
}
