import Foundation

/// An IAM policy document: a bucket policy (whose statements name a Principal) or an identity policy (whose do not).
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html
public struct PolicyDocument: Sendable, Equatable {
    public enum Kind: Sendable {
        /// Attached to a bucket: every statement names Principal or NotPrincipal.
        case resource
        /// Attached to a user: no statement names a principal.
        case identity
    }

    public var version: String?
    public var id: String?
    public var statements: [PolicyStatement]

    /// AWS's limit on a bucket policy.
    public static let maxBucketPolicyBytes = 20 * 1024
}

public struct PolicyStatement: Sendable, Equatable {
    public enum Effect: String, Sendable { case allow = "Allow", deny = "Deny" }

    /// Values that match, or (for the Not- forms) values that do not.
    public struct Patterns: Sendable, Equatable {
        public var values: [String]
        public var negated: Bool
    }

    /// Who a resource policy statement is about.
    public struct Principals: Sendable, Equatable {
        /// `"*"` or `{"AWS": "*"}`: everyone, anonymous callers included.
        public var everyone: Bool
        /// Account ids, account root ARNs and user ARNs (`{"AWS": ...}`).
        public var aws: [String]
        /// Canonical user ids (`{"CanonicalUser": ...}`).
        public var canonicalUsers: [String]
        /// Service principals (`{"Service": ...}`): kept, never matched by a request Martlet serves.
        public var services: [String]
    }

    public var sid: String?
    public var effect: Effect
    public var principal: Principals?
    public var notPrincipal: Principals?
    public var actions: Patterns
    public var resources: Patterns
    public var conditions: [PolicyCondition]
}

/// One `"Operator": {"key": [values]}` entry of a Condition block.
public struct PolicyCondition: Sendable, Equatable {
    public var condition: ConditionOperator
    /// The condition key as written (keys compare case-insensitively).
    public var key: String
    public var values: [String]
}

/// A policy that cannot be used, with AWS's MalformedPolicy message.
public struct MalformedPolicy: Error, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
}
