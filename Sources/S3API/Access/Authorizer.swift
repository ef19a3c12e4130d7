import Foundation
import HTTPTypes
import ObjectStore
import S3Auth
import S3Wire
import Synchronization

/// The one place a request is authorized: it gathers the caller, the operation's action and resource, the
/// bucket's owner and policy and the caller's identity policies, and asks ``PolicyEvaluator``.
final class Authorizer: Sendable {
    let directory: IdentityDirectory
    let index: any StorageIndex
    private let buckets = BucketAccessCache()

    init(directory: IdentityDirectory, index: any StorageIndex) {
        self.directory = directory
        self.index = index
    }

    /// What decides access to a bucket: its owner and its policy, parsed.
    struct BucketAccess: Sendable {
        var owner: AccountIdentity?
        var policy: PolicyDocument?
        var acl: AccessControlList?
        /// nil for a bucket from before Object Ownership: ACLs on, as ObjectWriter.
        var ownership: ObjectOwnership?
        var publicAccessBlock: PublicAccessBlock?

        var aclsEnabled: Bool { ownership != .bucketOwnerEnforced }
    }

    /// A bucket's owner and policy, from memory unless a change made since dropped them; nil if there is no such
    /// bucket.
    func bucketAccess(_ name: String) async throws -> BucketAccess? {
        if let cached = buckets.lookup(name) { return cached.value }
        let generation = buckets.generation
        guard let info = try await index.bucket(named: name) else {
            buckets.store(name, nil, loadedAt: generation)
            return nil
        }
        let policyText = try await index.bucketPolicy(bucket: name)
        let access = BucketAccess(
            owner: info.owner.flatMap(directory.identity(accountID:)),
            policy: policyText.flatMap { try? PolicyDocument.parse(Array($0.utf8), kind: .resource) },
            acl: info.acl, ownership: info.ownership, publicAccessBlock: info.publicAccessBlock)
        buckets.store(name, access, loadedAt: generation)
        return access
    }

    /// Forgets what is known of a bucket; called by every change to a bucket's existence, owner or policy.
    func invalidate(bucket: String) {
        buckets.invalidate(bucket)
    }

    /// Authorizes the request's own operation (AccessDenied otherwise). Operations that touch a second resource
    /// (a copy's source, each key of DeleteObjects) check it through ``RequestAccess/require(_:)``.
    func authorize(_ context: RequestContext) async throws {
        let caller = context.auth.caller
        if case .admin = context.endpoint {
            // Accounts are the operator's business alone.
            guard directory.isOperator(caller) else { throw S3Error(.accessDenied) }
            return
        }
        guard var action = context.endpoint.iamAction(versioned: context.query["versionId"] != nil) else {
            // Operations Martlet does not serve answer 501 to anyone who may ask at all.
            guard caller != .anonymous else { throw S3Error(.accessDenied) }
            return
        }
        action.versionID = action.key == nil ? nil : context.query["versionId"]
        if case .deleteObjects = context.endpoint {
            // Authorized key by key by the handler; here only that the bucket's account lets the caller in at all.
            return
        }
        try await require(action, context: context)
    }

    /// Decides one action on one resource for the request's caller.
    func require(_ action: IAMAction, context: RequestContext) async throws {
        let caller = context.auth.caller
        guard let bucket = action.bucket else {
            // ListBuckets: every account may list its own; a user needs its identity policy to say so.
            try check(decide(action: action, owner: nil, policy: nil, context: context))
            return
        }
        if action.name == "s3:CreateBucket" {
            guard caller != .anonymous else { throw S3Error(.accessDenied) }
            try check(decide(action: action, owner: nil, policy: nil, context: context))
            return
        }
        // A bucket that does not exist is NoSuchBucket for anyone, as on AWS: its handler answers.
        guard let access = try await bucketAccess(bucket) else { return }
        if Self.policyActions.contains(action.name) {
            // Only the owning account manages a bucket's policy, and its root always may, so that a policy
            // cannot lock the owner out.
            guard let account = caller.account, account == access.owner else { throw S3Error(.accessDenied) }
            if case .root = caller { return }
        }
        var owner = access.owner
        var aclMatch = GrantMatch.none
        let ignorePublic = access.publicAccessBlock?.ignorePublicAcls == true
        if access.aclsEnabled {
            if let permission = ACLEvaluation.objectPermission(for: action.name) {
                // An object's own ACL decides, and in ObjectWriter buckets its writer owns it.
                if let acl = try await objectACL(action) {
                    owner = directory.identity(accountID: acl.owner) ?? owner
                    aclMatch = ACLEvaluation.match(acl, permission: permission, caller: caller, ignorePublic: ignorePublic)
                }
            } else if let permission = ACLEvaluation.bucketPermission(for: action.name), let acl = access.acl {
                aclMatch = ACLEvaluation.match(acl, permission: permission, caller: caller, ignorePublic: ignorePublic)
            }
        }
        var policy = access.policy
        if access.publicAccessBlock?.restrictPublicBuckets == true, policy?.isPublic == true, caller.account != access.owner {
            // RestrictPublicBuckets: a public policy serves only the owner's account.
            policy = nil
        }
        try check(decide(action: action, owner: owner, policy: policy, acl: aclMatch, context: context))
    }

    /// The ACL of the object (or version) an action names, if it has one.
    private func objectACL(_ action: IAMAction) async throws -> AccessControlList? {
        guard let bucket = action.bucket, let key = action.key else { return nil }
        let record: ObjectRecord?
        if let versionID = action.versionID {
            record = try? await index.objectVersion(bucket: bucket, key: key, versionID: versionID)
        } else {
            record = try? await index.object(bucket: bucket, key: key)
        }
        return record?.metadata.acl
    }

    static let policyActions: Set<String> = ["s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy"]

    private func check(_ decision: Decision) throws {
        guard decision == .allow else { throw S3Error(.accessDenied) }
    }

    private func decide(
        action: IAMAction, owner: AccountIdentity?, policy: PolicyDocument?, acl: GrantMatch = .none, context: RequestContext
    ) -> Decision {
        let request = AuthorizationRequest(
            caller: context.auth.caller, action: action.name, resource: action.resource, resourceOwner: owner,
            context: ConditionKeys.values(for: context))
        return PolicyEvaluator.decide(
            request, identityPolicies: directory.identityPolicies(context.auth.caller), bucketPolicy: policy, acl: acl)
    }
}

/// Buckets' owners and policies by name. Each change bumps the generation, and a load that began before a change
/// is not kept, so a lookup never returns what a finished change replaced.
final class BucketAccessCache: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var entries: [String: Authorizer.BucketAccess?] = [:]
    }

    private let state = Mutex(State())
    private static let limit = 10_000

    struct Hit { var value: Authorizer.BucketAccess? }

    var generation: UInt64 { state.withLock { $0.generation } }

    func lookup(_ name: String) -> Hit? {
        state.withLock { state in state.entries[name].map { Hit(value: $0) } }
    }

    func store(_ name: String, _ value: Authorizer.BucketAccess?, loadedAt generation: UInt64) {
        state.withLock { state in
            guard state.generation == generation else { return }
            if state.entries.count >= Self.limit { state.entries.removeAll(keepingCapacity: true) }
            state.entries[name] = .some(value)
        }
    }

    func invalidate(_ name: String) {
        state.withLock { state in
            state.generation &+= 1
            state.entries[name] = nil
        }
    }
}

/// A request's values of the condition keys policies may test.
/// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html#amazons3-policy-keys
enum ConditionKeys {
    static func values(for context: RequestContext) -> [String: [String]] {
        var keys: [String: [String]] = [:]
        let now = Date()
        keys["aws:currenttime"] = [HTTPDate.iso8601(now)]
        keys["aws:epochtime"] = [String(Int64(now.timeIntervalSince1970))]
        keys["aws:securetransport"] = [context.connection.isTLS ? "true" : "false"]
        if let ip = context.connection.remoteIP { keys["aws:sourceip"] = [ip] }
        if let referer = context.header("Referer") { keys["aws:referer"] = [referer] }
        if let agent = context.header("User-Agent") { keys["aws:useragent"] = [agent] }
        for name in ["prefix", "delimiter", "max-keys", "versionId"] {
            if let value = context.query[name] { keys["s3:\(name.lowercased())"] = [value] }
        }
        for header in ["x-amz-acl", "x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id",
                       "x-amz-copy-source", "x-amz-metadata-directive", "x-amz-storage-class", "x-amz-content-sha256",
                       "x-amz-object-lock-mode", "x-amz-object-lock-retain-until-date", "x-amz-object-lock-legal-hold"] {
            if let value = context.header(header) { keys["s3:\(header)"] = [value] }
        }
        switch context.auth.signatureVersion {
        case .v4: keys["s3:signatureversion"] = ["AWS4-HMAC-SHA256"]
        case .v2: keys["s3:signatureversion"] = ["AWS"]
        case .anonymous: break
        }
        if context.auth.signatureVersion != .anonymous {
            keys["s3:authtype"] = [context.auth.isPresigned ? "REST-QUERY-STRING" : "REST-HEADER"]
        }
        if let tagging = context.header("x-amz-tagging"), let tags = try? TagSet.parse(header: tagging) {
            keys["s3:requestobjecttagkeys"] = tags.map(\.key)
            for tag in tags { keys["s3:requestobjecttag/\(tag.key.lowercased())"] = [tag.value] }
        }
        return keys
    }
}
