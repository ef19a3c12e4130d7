import ObjectStore
import S3Auth

/// What an ACL grants, in the terms of ``PolicyEvaluator``.
/// https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#permissions
enum ACLEvaluation {
    /// The permission an action needs from the bucket's ACL; nil if bucket ACLs cannot grant it.
    static func bucketPermission(for action: String) -> ACLPermission? {
        switch action {
        case "s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads": .read
        case "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:AbortMultipartUpload": .write
        case "s3:GetBucketAcl": .readACP
        case "s3:PutBucketAcl": .writeACP
        default: nil
        }
    }

    /// The permission an action needs from the object's ACL; nil if object ACLs cannot grant it.
    static func objectPermission(for action: String) -> ACLPermission? {
        switch action {
        case "s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTorrent", "s3:GetObjectVersionTorrent": .read
        case "s3:GetObjectAcl", "s3:GetObjectVersionAcl": .readACP
        case "s3:PutObjectAcl", "s3:PutObjectVersionAcl": .writeACP
        default: nil
        }
    }

    /// How closely the ACL's grants of `permission` name the caller. With `ignorePublic` (Block Public Access's
    /// IgnorePublicAcls), grants to AllUsers and AuthenticatedUsers count for nothing.
    static func match(_ acl: AccessControlList, permission: ACLPermission, caller: Caller, ignorePublic: Bool) -> GrantMatch {
        var best = GrantMatch.none
        for grant in acl.grants where grant.permission.covers(permission) {
            switch grant.grantee {
            case .canonicalUser(let id):
                guard let account = caller.account, account.canonicalID == id else { continue }
                best = max(best, caller == .root(account) ? .caller : .account)
            case .group(ACLGrantee.allUsers) where !ignorePublic:
                best = .caller
            case .group(ACLGrantee.authenticatedUsers) where !ignorePublic && caller != .anonymous:
                best = .caller
            case .group:
                continue
            }
        }
        return best
    }
}
