import Foundation
import HTTPTypes
import HummingbirdCore
import ObjectStore
import S3Auth
import S3Wire

/// PutBucketPolicy, GetBucketPolicy, DeleteBucketPolicy and GetBucketPolicyStatus.
extension S3Handlers {
    func putBucketPolicy(_ bucket: String, _ context: RequestContext, body: RequestBody) async throws -> S3Response {
        _ = try await requireBucket(bucket)
        let document = try await body.collectVerifiedDocument(context, limit: 1 << 20)
        guard PolicyDocument.compactSize(document) <= PolicyDocument.maxBucketPolicyBytes else {
            throw S3Error(.malformedPolicy, "Policy exceeds the maximum allowed document size.")
        }
        let policy: PolicyDocument
        do {
            policy = try PolicyDocument.parse(document, kind: .resource)
        } catch {
            throw S3Error(.malformedPolicy, error.message)
        }
        if policy.invalidPrincipal != nil {
            throw S3Error(.malformedPolicy, "Invalid principal in policy")
        }
        if let address = policy.invalidAddress {
            throw S3Error(.malformedPolicy, "Invalid IP address or CIDR block in condition: \(address)")
        }
        if policy.resourceOutside(bucket: bucket) != nil {
            throw S3Error(.malformedPolicy, "Policy has invalid resource")
        }
        if policy.isPublic, try await requireBucket(bucket).publicAccessBlock?.blockPublicPolicy == true {
            throw S3Error(.accessDenied, "User does not have permission to put a public policy: Block Public Access is on for this bucket.")
        }
        try await storage.index.setBucketPolicy(String(decoding: document, as: UTF8.self), bucket: bucket)
        authorizer.invalidate(bucket: bucket)
        return .empty(.noContent)
    }

    func getBucketPolicy(_ bucket: String) async throws -> S3Response {
        guard let policy = try await storage.index.bucketPolicy(bucket: bucket) else {
            throw S3Error(.noSuchBucketPolicy, details: [("BucketName", bucket)])
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return .bytes(Array(policy.utf8), headers: headers)
    }

    func deleteBucketPolicy(_ bucket: String) async throws -> S3Response {
        try await storage.index.setBucketPolicy(nil, bucket: bucket)
        authorizer.invalidate(bucket: bucket)
        return .empty(.noContent)
    }

    /// Whether the bucket's policy makes it public, by AWS's definition: a statement allowing someone outside
    /// the account, without a condition that pins the caller to fixed accounts or address ranges.
    func getBucketPolicyStatus(_ bucket: String) async throws -> S3Response {
        guard let text = try await storage.index.bucketPolicy(bucket: bucket) else {
            throw S3Error(.noSuchBucketPolicy, details: [("BucketName", bucket)])
        }
        let policy = try? PolicyDocument.parse(Array(text.utf8), kind: .resource)
        var xml = XMLWriter()
        xml.element("PolicyStatus", namespace: XMLWriter.s3Namespace) { x in
            x.element("IsPublic", policy?.isPublic ?? false)
        }
        return .xml(xml)
    }
}
