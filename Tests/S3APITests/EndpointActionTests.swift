import HTTPTypes
import Testing

@testable import S3Wire

@Suite("Every endpoint's IAM action and resource")
struct EndpointActionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let endpoint: S3Endpoint
        let versioned: Bool
        let action: String
        let resource: String
        init(_ endpoint: S3Endpoint, _ action: String, _ resource: String, versioned: Bool = false) {
            (self.endpoint, self.action, self.resource, self.versioned) = (endpoint, action, resource, versioned)
        }
        var testDescription: String { "\(endpoint)\(versioned ? " with versionId" : "") is \(action)" }
    }

    static let cases: [Case] = [
        Case(.listBuckets, "s3:ListAllMyBuckets", "arn:aws:s3:::*"),
        Case(.createBucket(bucket: "b"), "s3:CreateBucket", "arn:aws:s3:::b"),
        Case(.putBucketPolicy(bucket: "b"), "s3:PutBucketPolicy", "arn:aws:s3:::b"),
        Case(.getBucketPolicyStatus(bucket: "b"), "s3:GetBucketPolicyStatus", "arn:aws:s3:::b"),
        Case(.headBucket(bucket: "b"), "s3:ListBucket", "arn:aws:s3:::b"),
        Case(.listObjectsV2(bucket: "b"), "s3:ListBucket", "arn:aws:s3:::b"),
        Case(.listObjectVersions(bucket: "b"), "s3:ListBucketVersions", "arn:aws:s3:::b"),
        Case(.deleteBucketLifecycle(bucket: "b"), "s3:PutLifecycleConfiguration", "arn:aws:s3:::b"),
        Case(.getObject(bucket: "b", key: "a/k"), "s3:GetObject", "arn:aws:s3:::b/a/k"),
        Case(.headObject(bucket: "b", key: "k"), "s3:GetObjectVersion", "arn:aws:s3:::b/k", versioned: true),
        Case(.deleteObject(bucket: "b", key: "k"), "s3:DeleteObjectVersion", "arn:aws:s3:::b/k", versioned: true),
        Case(.copyObject(bucket: "b", key: "k"), "s3:PutObject", "arn:aws:s3:::b/k"),
        Case(.uploadPart(bucket: "b", key: "k", uploadID: "u"), "s3:PutObject", "arn:aws:s3:::b/k"),
        Case(.completeMultipartUpload(bucket: "b", key: "k", uploadID: "u"), "s3:PutObject", "arn:aws:s3:::b/k"),
        Case(.abortMultipartUpload(bucket: "b", key: "k", uploadID: "u"), "s3:AbortMultipartUpload", "arn:aws:s3:::b/k"),
        Case(.listParts(bucket: "b", key: "k", uploadID: "u"), "s3:ListMultipartUploadParts", "arn:aws:s3:::b/k"),
        Case(.putObjectTagging(bucket: "b", key: "k"), "s3:PutObjectVersionTagging", "arn:aws:s3:::b/k", versioned: true),
        Case(.putObjectRetention(bucket: "b", key: "k"), "s3:PutObjectRetention", "arn:aws:s3:::b/k", versioned: true),
        Case(.getObjectTorrent(bucket: "b", key: "k"), "s3:GetObjectTorrent", "arn:aws:s3:::b/k"),
    ]

    @Test("actions", arguments: cases)
    func action(_ test: Case) throws {
        let action = try #require(test.endpoint.iamAction(versioned: test.versioned))
        #expect(action.name == test.action)
        #expect(action.resource == test.resource)
    }

    @Test("an operation Martlet does not offer has no action")
    func notOffered() {
        #expect(S3Endpoint.notImplemented(operation: "GET BucketWebsite").iamAction(versioned: false) == nil)
    }
}
