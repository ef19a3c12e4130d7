import Foundation
import HummingbirdCore
import ObjectStore
import S3Wire

/// Object Ownership controls and Block Public Access, per bucket.
extension S3Handlers {
    func getBucketOwnershipControls(_ bucket: String) async throws -> S3Response {
        guard let ownership = try await requireBucket(bucket).ownership else {
            throw S3Error(.ownershipControlsNotFoundError, details: [("BucketName", bucket)])
        }
        var xml = XMLWriter()
        xml.element("OwnershipControls", namespace: XMLWriter.s3Namespace) { x in
            x.element("Rule") { r in r.element("ObjectOwnership", ownership.rawValue) }
        }
        return .xml(xml)
    }

    func putBucketOwnershipControls(_ bucket: String, _ context: RequestContext, body: RequestBody) async throws -> S3Response {
        let info = try await requireBucket(bucket)
        let root = try XMLReader.parse(try await body.collectVerifiedDocument(context, limit: 64 << 10))
        let rules = root.children("Rule")
        guard root.name == "OwnershipControls", rules.count == 1,
              let text = rules[0].child("ObjectOwnership")?.text.trimmingCharacters(in: .whitespacesAndNewlines)
        else { throw S3Error(.malformedXML) }
        guard let ownership = ObjectOwnership(rawValue: text) else {
            throw S3Error(.malformedXML, "Invalid ObjectOwnership: \(text)")
        }
        // Disabling ACLs while the bucket's ACL grants someone besides its owner would silently revoke that access.
        if ownership == .bucketOwnerEnforced, let acl = info.acl, let owner = info.owner,
           acl.grants.contains(where: { $0.grantee != .canonicalUser(canonicalID(ofAccount: owner)) }) {
            throw S3Error(.invalidBucketAclWithObjectOwnership)
        }
        try await storage.index.setOwnership(ownership, bucket: bucket)
        authorizer.invalidate(bucket: bucket)
        return .empty(.ok)
    }

    func deleteBucketOwnershipControls(_ bucket: String) async throws -> S3Response {
        try await storage.index.setOwnership(nil, bucket: bucket)
        authorizer.invalidate(bucket: bucket)
        return .empty(.noContent)
    }

    func getPublicAccessBlock(_ bucket: String) async throws -> S3Response {
        guard let block = try await requireBucket(bucket).publicAccessBlock else {
            throw S3Error(.noSuchPublicAccessBlockConfiguration, details: [("BucketName", bucket)])
        }
        var xml = XMLWriter()
        xml.element("PublicAccessBlockConfiguration", namespace: XMLWriter.s3Namespace) { x in
            x.element("BlockPublicAcls", block.blockPublicAcls)
            x.element("IgnorePublicAcls", block.ignorePublicAcls)
            x.element("BlockPublicPolicy", block.blockPublicPolicy)
            x.element("RestrictPublicBuckets", block.restrictPublicBuckets)
        }
        return .xml(xml)
    }

    func putPublicAccessBlock(_ bucket: String, _ context: RequestContext, body: RequestBody) async throws -> S3Response {
        _ = try await requireBucket(bucket)
        let root = try XMLReader.parse(try await body.collectVerifiedDocument(context, limit: 64 << 10))
        guard root.name == "PublicAccessBlockConfiguration" else { throw S3Error(.malformedXML) }
        func flag(_ name: String) throws(S3Error) -> Bool {
            guard let element = root.child(name) else { return false }
            switch element.text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() {
            case "true": return true
            case "false": return false
            default: throw S3Error(.malformedXML)
            }
        }
        let block = PublicAccessBlock(
            blockPublicAcls: try flag("BlockPublicAcls"), ignorePublicAcls: try flag("IgnorePublicAcls"),
            blockPublicPolicy: try flag("BlockPublicPolicy"), restrictPublicBuckets: try flag("RestrictPublicBuckets"))
        try await storage.index.setPublicAccessBlock(block, bucket: bucket)
        authorizer.invalidate(bucket: bucket)
        return .empty(.ok)
    }

    func deletePublicAccessBlock(_ bucket: String) async throws -> S3Response {
        try await storage.index.setPublicAccessBlock(nil, bucket: bucket)
        authorizer.invalidate(bucket: bucket)
        return .empty(.noContent)
    }

    func canonicalID(ofAccount id: String) -> String {
        authorizer.directory.account(id: id)?.canonicalID ?? ""
    }
}
