import Foundation

/// An ACL permission. https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#permissions
public enum ACLPermission: String, Sendable, Codable, CaseIterable {
    case read = "READ", write = "WRITE", readACP = "READ_ACP", writeACP = "WRITE_ACP", fullControl = "FULL_CONTROL"

    /// Whether holding `self` gives `wanted` (FULL_CONTROL gives every permission).
    public func covers(_ wanted: ACLPermission) -> Bool {
        self == wanted || self == .fullControl
    }
}

/// Who a grant names: an account by canonical id, or one of S3's predefined groups by URI.
public enum ACLGrantee: Sendable, Codable, Equatable, Hashable {
    case canonicalUser(String)
    case group(String)

    public static let allUsers = "http://acs.amazonaws.com/groups/global/AllUsers"
    public static let authenticatedUsers = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
    public static let logDelivery = "http://acs.amazonaws.com/groups/s3/LogDelivery"

    /// Grants to everyone or to every signed-in caller make a resource public.
    public var isPublic: Bool {
        self == .group(Self.allUsers) || self == .group(Self.authenticatedUsers)
    }
}

public struct ACLGrant: Sendable, Codable, Equatable, Hashable {
    public var grantee: ACLGrantee
    public var permission: ACLPermission

    public init(_ grantee: ACLGrantee, _ permission: ACLPermission) {
        self.grantee = grantee
        self.permission = permission
    }
}

/// A bucket's or object's ACL: its owner (an account id) and the grants.
public struct AccessControlList: Sendable, Codable, Equatable {
    /// The owning account's id (12 digits).
    public var owner: String
    public var grants: [ACLGrant]

    public init(owner: String, grants: [ACLGrant]) {
        self.owner = owner
        self.grants = grants
    }

    public var isPublic: Bool { grants.contains { $0.grantee.isPublic } }
}

/// Object Ownership: who owns objects written to a bucket, and whether ACLs count at all.
public enum ObjectOwnership: String, Sendable, Codable, CaseIterable {
    /// The bucket owner owns every object; ACLs are disabled (AWS's default for new buckets since April 2023).
    case bucketOwnerEnforced = "BucketOwnerEnforced"
    /// The bucket owner owns objects written with the bucket-owner-full-control ACL; the writer owns the rest.
    case bucketOwnerPreferred = "BucketOwnerPreferred"
    /// The writer owns what it writes.
    case objectWriter = "ObjectWriter"
}

/// A bucket's Block Public Access settings.
public struct PublicAccessBlock: Sendable, Codable, Equatable {
    public var blockPublicAcls: Bool
    public var ignorePublicAcls: Bool
    public var blockPublicPolicy: Bool
    public var restrictPublicBuckets: Bool

    public init(blockPublicAcls: Bool, ignorePublicAcls: Bool, blockPublicPolicy: Bool, restrictPublicBuckets: Bool) {
        self.blockPublicAcls = blockPublicAcls
        self.ignorePublicAcls = ignorePublicAcls
        self.blockPublicPolicy = blockPublicPolicy
        self.restrictPublicBuckets = restrictPublicBuckets
    }

    public static let all = PublicAccessBlock(blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: true, restrictPublicBuckets: true)
}
