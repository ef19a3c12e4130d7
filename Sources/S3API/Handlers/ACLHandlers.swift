import Foundation
import HTTPTypes
import HummingbirdCore
import ObjectStore
import S3Auth
import S3Wire

/// ACLs: the ones requests set with `x-amz-acl` and `x-amz-grant-*` (CreateBucket, PutObject, CopyObject,
/// CreateMultipartUpload), and Get/PutBucketAcl and Get/PutObjectAcl. Object Ownership decides whether they count.
extension S3Handlers {
    /// The ACL a new object gets from its request's headers; nil where ACLs are disabled (the bucket owner owns
    /// it). Throws AccessControlListNotSupported for an ACL a BucketOwnerEnforced bucket cannot take, and
    /// AccessDenied for a public one Block Public Access refuses.
    func newObjectACL(_ bucket: String, _ context: RequestContext) async throws -> AccessControlList? {
        let requested = try AccessControlXML.fromHeaders { context.header($0) }
        guard let access = try await authorizer.bucketAccess(bucket) else { throw S3Error.noSuchBucket(bucket) }
        let bucketOwner = access.owner?.id
        guard access.aclsEnabled else {
            if let requested, !Self.isOwnerFullControlOnly(requested, bucketOwner: access.owner?.canonicalID) {
                throw S3Error(.accessControlListNotSupported)
            }
            return nil
        }
        let writer = context.auth.caller.account?.id ?? bucketOwner ?? ""
        var owner = writer
        if access.ownership == .bucketOwnerPreferred, requested == .canned(.bucketOwnerFullControl), let bucketOwner {
            owner = bucketOwner
        }
        let acl = try resolve(requested ?? .canned(.private), owner: owner, bucketOwnerCanonical: access.owner?.canonicalID)
        if acl.isPublic, access.publicAccessBlock?.blockPublicAcls == true { throw S3Error(.accessDenied) }
        return acl
    }

    /// Turns what a request asked for into an ACL owned by `owner` (an account id), resolving e-mail grantees and
    /// checking canonical ids and group URIs.
    func resolve(_ requested: AccessControlXML.HeaderACL, owner: String, bucketOwnerCanonical: String?) throws -> AccessControlList {
        guard let ownerAccount = authorizer.directory.account(id: owner) else { return AccessControlList(owner: owner, grants: []) }
        var grants = [ACLGrant(.canonicalUser(ownerAccount.canonicalID), .fullControl)]
        let extra: [RequestedGrant]
        switch requested {
        case .canned(let canned): extra = AccessControlXML.grants(canned, bucketOwner: bucketOwnerCanonical)
        case .grants(let explicit):
            grants = []
            extra = explicit
        }
        for grant in extra {
            let resolved = ACLGrant(try resolveGrantee(grant.grantee), grant.permission)
            if !grants.contains(resolved) { grants.append(resolved) }
        }
        return AccessControlList(owner: owner, grants: grants)
    }

    private func resolveGrantee(_ grantee: RequestedGrantee) throws -> ACLGrantee {
        switch grantee {
        case .canonicalUser(let id):
            guard authorizer.directory.account(canonicalID: id) != nil else {
                throw S3Error(.invalidArgument, "Invalid id", details: [("ArgumentName", "CanonicalUser/ID"), ("ArgumentValue", id)])
            }
            return .canonicalUser(id)
        case .group(let uri):
            guard AccessControlXML.groups.contains(uri) else {
                throw S3Error(.invalidArgument, "Invalid group uri", details: [("ArgumentName", "Group/URI"), ("ArgumentValue", uri)])
            }
            return .group(uri)
        case .email(let address):
            guard let account = authorizer.directory.account(email: address) else {
                throw S3Error(.unresolvableGrantByEmailAddress, details: [("EmailAddress", address)])
            }
            return .canonicalUser(account.canonicalID)
        }
    }

    /// What a BucketOwnerEnforced bucket still accepts: bucket-owner-full-control or grants equal to it (AWS refuses
    /// even `private` there, with AccessControlListNotSupported).
    static func isOwnerFullControlOnly(_ requested: AccessControlXML.HeaderACL, bucketOwner: String?) -> Bool {
        switch requested {
        case .canned(let canned): canned == .bucketOwnerFullControl
        case .grants(let grants): grants.allSatisfy { $0.permission == .fullControl && $0.grantee == bucketOwner.map { .canonicalUser($0) } }
        }
    }

    // MARK: Bucket ACL

    func getBucketAcl(_ bucket: String) async throws -> S3Response {
        let info = try await requireBucket(bucket)
        let owner = info.owner ?? ""
        let acl = info.ownership == .bucketOwnerEnforced ? nil : info.acl
        return writeACL(acl ?? ownerOnly(owner), owner: owner)
    }

    func putBucketAcl(_ bucket: String, _ context: RequestContext, body: RequestBody) async throws -> S3Response {
        let info = try await requireBucket(bucket)
        guard let access = try await authorizer.bucketAccess(bucket) else { throw S3Error.noSuchBucket(bucket) }
        let requested = try await requestedACL(context, body: body)
        let owner = info.owner ?? ""
        guard access.aclsEnabled else {
            guard Self.isOwnerFullControlOnly(requested, bucketOwner: access.owner?.canonicalID) else {
                throw S3Error(.accessControlListNotSupported)
            }
            return .empty(.ok)
        }
        let acl = try resolve(requested, owner: owner, bucketOwnerCanonical: access.owner?.canonicalID)
        if acl.isPublic, access.publicAccessBlock?.blockPublicAcls == true { throw S3Error(.accessDenied) }
        try await storage.index.setBucketACL(acl, bucket: bucket)
        authorizer.invalidate(bucket: bucket)
        return .empty(.ok)
    }

    // MARK: Object ACL

    func getObjectAcl(_ bucket: String, _ key: String, _ context: RequestContext) async throws -> S3Response {
        let info = try await requireBucket(bucket)
        let record = try await aclTarget(bucket, key, context)
        let owner = record.metadata.acl?.owner ?? info.owner ?? ""
        let acl = info.ownership == .bucketOwnerEnforced ? nil : record.metadata.acl
        var response = writeACL(acl ?? ownerOnly(owner), owner: owner)
        if let version = record.versionID { response.headers[.amzVersionID] = version }
        return response
    }

    func putObjectAcl(_ bucket: String, _ key: String, _ context: RequestContext, body: RequestBody) async throws -> S3Response {
        guard let access = try await authorizer.bucketAccess(bucket) else { throw S3Error.noSuchBucket(bucket) }
        let record = try await aclTarget(bucket, key, context)
        let requested = try await requestedACL(context, body: body)
        guard access.aclsEnabled else {
            guard Self.isOwnerFullControlOnly(requested, bucketOwner: access.owner?.canonicalID) else {
                throw S3Error(.accessControlListNotSupported)
            }
            return .empty(.ok)
        }
        let owner = record.metadata.acl?.owner ?? access.owner?.id ?? ""
        let acl = try resolve(requested, owner: owner, bucketOwnerCanonical: access.owner?.canonicalID)
        if acl.isPublic, access.publicAccessBlock?.blockPublicAcls == true { throw S3Error(.accessDenied) }
        guard let updated = try await storage.index.setObjectACL(acl, bucket: bucket, key: key, versionID: context.query["versionId"]) else {
            throw S3Error(.noSuchKey, details: [("Key", key)])
        }
        var headers = HTTPFields()
        if let version = updated.versionID { headers[.amzVersionID] = version }
        return .empty(.ok, headers: headers)
    }

    /// The version an object ACL request names (the current object without `versionId`).
    private func aclTarget(_ bucket: String, _ key: String, _ context: RequestContext) async throws -> ObjectRecord {
        let record: ObjectRecord?
        if let versionID = context.query["versionId"] {
            record = try await storage.index.objectVersion(bucket: bucket, key: key, versionID: versionID)
            guard let record else { throw S3Error(.noSuchVersion, details: [("Key", key), ("VersionId", versionID)]) }
            if record.isDeleteMarker { throw S3Error(.methodNotAllowed) }
            return record
        }
        record = try await storage.index.object(bucket: bucket, key: key)
        guard let record, !record.isDeleteMarker else { throw S3Error(.noSuchKey, details: [("Key", key)]) }
        return record
    }

    /// The ACL a Put...Acl request asks for: in its headers or its AccessControlPolicy body, not both.
    private func requestedACL(_ context: RequestContext, body: RequestBody) async throws -> AccessControlXML.HeaderACL {
        let headers = try AccessControlXML.fromHeaders { context.header($0) }
        let document = try await body.collectVerifiedDocument(context, limit: 64 << 10)
        if let headers {
            guard document.isEmpty else {
                throw S3Error(.unexpectedContent, "This request does not support content")
            }
            return headers
        }
        guard !document.isEmpty else { throw S3Error(.malformedACLError) }
        return .grants(try AccessControlXML.parse(document).grants)
    }

    private func ownerOnly(_ owner: String) -> AccessControlList {
        let canonical = authorizer.directory.account(id: owner)?.canonicalID ?? ""
        return AccessControlList(owner: owner, grants: [ACLGrant(.canonicalUser(canonical), .fullControl)])
    }

    private func writeACL(_ acl: AccessControlList, owner: String) -> S3Response {
        let described = self.owner(ofAccount: acl.owner.isEmpty ? owner : acl.owner)
        let xml = AccessControlXML.write(owner: (described.id, described.displayName), grants: acl.grants) { id in
            authorizer.directory.account(canonicalID: id)?.displayName
        }
        return .xml(xml)
    }
}
