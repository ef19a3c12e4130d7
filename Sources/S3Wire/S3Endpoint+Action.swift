/// The IAM action and resource each operation is authorized as: one table, read by the authorizer for every
/// request. https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
public struct IAMAction: Sendable, Equatable {
    /// `s3:GetObject`, ...
    public var name: String
    /// `arn:aws:s3:::bucket`, `arn:aws:s3:::bucket/key`, or `*`.
    public var resource: String
    /// The bucket the resource belongs to (whose owner, policy and ACL decide), nil for ListBuckets.
    public var bucket: String?
    /// The object the resource names, and its version if the request names one (whose ACL may decide).
    public var key: String?
    public var versionID: String?
    /// For a ListBucket asked on behalf of one key (is a missing key 404 or 403?): the key, as the listing's prefix.
    public var prefixKey: String?

    public init(
        _ name: String, resource: String, bucket: String?, key: String? = nil, versionID: String? = nil, prefixKey: String? = nil
    ) {
        self.prefixKey = prefixKey
        self.name = name
        self.resource = resource
        self.bucket = bucket
        self.key = key
        self.versionID = versionID
    }
}

extension S3Endpoint {
    /// The action this request needs. `versioned` says the request names a version (`?versionId=`), which some
    /// operations authorize as their `...Version` action. Nil for operations Martlet does not offer.
    public func iamAction(versioned: Bool) -> IAMAction? {
        func bucketAction(_ name: String, _ bucket: String) -> IAMAction {
            IAMAction(name, resource: "arn:aws:s3:::\(bucket)", bucket: bucket)
        }
        func objectAction(_ name: String, _ bucket: String, _ key: String, version: String? = nil) -> IAMAction {
            IAMAction(versioned ? (version ?? name) : name, resource: "arn:aws:s3:::\(bucket)/\(key)", bucket: bucket, key: key)
        }
        switch self {
        case .listBuckets: return IAMAction("s3:ListAllMyBuckets", resource: "arn:aws:s3:::*", bucket: nil)
        case .createBucket(let b): return bucketAction("s3:CreateBucket", b)
        case .deleteBucket(let b): return bucketAction("s3:DeleteBucket", b)
        case .headBucket(let b), .listObjectsV1(let b), .listObjectsV2(let b): return bucketAction("s3:ListBucket", b)
        case .getBucketLocation(let b): return bucketAction("s3:GetBucketLocation", b)
        case .listMultipartUploads(let b): return bucketAction("s3:ListBucketMultipartUploads", b)
        case .getBucketVersioning(let b): return bucketAction("s3:GetBucketVersioning", b)
        case .putBucketVersioning(let b): return bucketAction("s3:PutBucketVersioning", b)
        case .listObjectVersions(let b): return bucketAction("s3:ListBucketVersions", b)
        case .getBucketTagging(let b): return bucketAction("s3:GetBucketTagging", b)
        case .putBucketTagging(let b), .deleteBucketTagging(let b): return bucketAction("s3:PutBucketTagging", b)
        case .getBucketLifecycle(let b): return bucketAction("s3:GetLifecycleConfiguration", b)
        case .putBucketLifecycle(let b), .deleteBucketLifecycle(let b): return bucketAction("s3:PutLifecycleConfiguration", b)
        case .getObjectLockConfiguration(let b): return bucketAction("s3:GetBucketObjectLockConfiguration", b)
        case .putObjectLockConfiguration(let b): return bucketAction("s3:PutBucketObjectLockConfiguration", b)
        // DeleteObjects is authorized as s3:DeleteObject for each key it names.
        case .deleteObjects(let b): return bucketAction("s3:DeleteObject", b)
        case .postObject(let b): return bucketAction("s3:PutObject", b)
        case .putObject(let b, let k), .copyObject(let b, let k), .createMultipartUpload(let b, let k),
             .uploadPart(let b, let k, _), .uploadPartCopy(let b, let k, _), .completeMultipartUpload(let b, let k, _):
            return objectAction("s3:PutObject", b, k)
        case .getObject(let b, let k), .headObject(let b, let k):
            return objectAction("s3:GetObject", b, k, version: "s3:GetObjectVersion")
        case .getObjectAttributes(let b, let k):
            return objectAction("s3:GetObjectAttributes", b, k, version: "s3:GetObjectVersionAttributes")
        case .deleteObject(let b, let k): return objectAction("s3:DeleteObject", b, k, version: "s3:DeleteObjectVersion")
        case .abortMultipartUpload(let b, let k, _): return objectAction("s3:AbortMultipartUpload", b, k)
        case .listParts(let b, let k, _): return objectAction("s3:ListMultipartUploadParts", b, k)
        case .getObjectTagging(let b, let k):
            return objectAction("s3:GetObjectTagging", b, k, version: "s3:GetObjectVersionTagging")
        case .putObjectTagging(let b, let k):
            return objectAction("s3:PutObjectTagging", b, k, version: "s3:PutObjectVersionTagging")
        case .deleteObjectTagging(let b, let k):
            return objectAction("s3:DeleteObjectTagging", b, k, version: "s3:DeleteObjectVersionTagging")
        case .getObjectRetention(let b, let k): return objectAction("s3:GetObjectRetention", b, k)
        case .putObjectRetention(let b, let k): return objectAction("s3:PutObjectRetention", b, k)
        case .getObjectLegalHold(let b, let k): return objectAction("s3:GetObjectLegalHold", b, k)
        case .putObjectLegalHold(let b, let k): return objectAction("s3:PutObjectLegalHold", b, k)
        case .getObjectTorrent(let b, let k):
            return objectAction("s3:GetObjectTorrent", b, k, version: "s3:GetObjectVersionTorrent")
        case .getBucketPolicy(let b): return bucketAction("s3:GetBucketPolicy", b)
        case .putBucketPolicy(let b): return bucketAction("s3:PutBucketPolicy", b)
        case .deleteBucketPolicy(let b): return bucketAction("s3:DeleteBucketPolicy", b)
        case .getBucketPolicyStatus(let b): return bucketAction("s3:GetBucketPolicyStatus", b)
        case .getBucketAcl(let b): return bucketAction("s3:GetBucketAcl", b)
        case .putBucketAcl(let b): return bucketAction("s3:PutBucketAcl", b)
        case .getObjectAcl(let b, let k): return objectAction("s3:GetObjectAcl", b, k, version: "s3:GetObjectVersionAcl")
        case .putObjectAcl(let b, let k): return objectAction("s3:PutObjectAcl", b, k, version: "s3:PutObjectVersionAcl")
        case .getBucketOwnershipControls(let b): return bucketAction("s3:GetBucketOwnershipControls", b)
        case .putBucketOwnershipControls(let b), .deleteBucketOwnershipControls(let b):
            return bucketAction("s3:PutBucketOwnershipControls", b)
        case .getPublicAccessBlock(let b): return bucketAction("s3:GetBucketPublicAccessBlock", b)
        case .putPublicAccessBlock(let b), .deletePublicAccessBlock(let b): return bucketAction("s3:PutBucketPublicAccessBlock", b)
        case .getBucketCors(let b): return bucketAction("s3:GetBucketCORS", b)
        case .putBucketCors(let b), .deleteBucketCors(let b): return bucketAction("s3:PutBucketCORS", b)
        case .getBucketWebsite(let b): return bucketAction("s3:GetBucketWebsite", b)
        case .putBucketWebsite(let b): return bucketAction("s3:PutBucketWebsite", b)
        case .deleteBucketWebsite(let b): return bucketAction("s3:DeleteBucketWebsite", b)
        case .getBucketEncryption(let b): return bucketAction("s3:GetEncryptionConfiguration", b)
        case .putBucketEncryption(let b), .deleteBucketEncryption(let b): return bucketAction("s3:PutEncryptionConfiguration", b)
        case .getBucketNotificationConfiguration(let b): return bucketAction("s3:GetBucketNotification", b)
        case .putBucketNotificationConfiguration(let b): return bucketAction("s3:PutBucketNotification", b)
        case .notImplemented, .admin: return nil
        }
    }
}
