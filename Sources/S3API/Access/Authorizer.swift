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
    let buckets = BucketAccessCache()

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
        var cors: [CORSRule]?
        var website: WebsiteConfiguration?
        /// `policy?.isPublic`, judged once when the policy is loaded rather than on every request.
        var policyIsPublic = false

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
        let policy = policyText.flatMap { try? PolicyDocument.parse(Array($0.utf8), kind: .resource) }
        let access = BucketAccess(
            owner: info.owner.flatMap(directory.identity(accountID:)),
            policy: policy,
            acl: info.acl, ownership: info.ownership, publicAccessBlock: info.publicAccessBlock, cors: info.cors,
            website: info.website, policyIsPublic: policy?.isPublic == true)
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
        if case .postObject = context.endpoint {
            // A form upload is signed by its fields, read from the body: its handler authorizes the PutObject it
            // makes through this same authorizer once the form has named the caller and the key.
            return
        }
        guard var action = context.endpoint.iamAction(versioned: context.query["versionId"] != nil) else {
            // Operations Martlet does not serve answer 501 to anyone who may ask at all.
            guard caller != .anonymous else { throw S3Error(.accessDenied) }
            return
        }
        action.versionID = action.key == nil ? nil : context.query["versionId"]
        if case .deleteObjects = context.endpoint {
            // Each key is its own s3:DeleteObject, decided by the handler through require(_:context:): a caller
            // refused some keys still has the others deleted, each refusal reported in the result, as on AWS.
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
        if let expected = context.header("x-amz-expected-bucket-owner"), expected != access.owner?.id {
            // The caller's guard against writing to a bucket that changed hands.
            throw S3Error(.accessDenied)
        }
        var owner = access.owner
        var aclMatch = GrantMatch.none
        var extraKeys: [String: [String]] = [:]
        if let prefixKey = action.prefixKey { extraKeys["s3:prefix"] = [prefixKey] }
        let identityPolicies = directory.identityPolicies(caller)
        let ignorePublic = access.publicAccessBlock?.ignorePublicAcls == true
        let objectPermission = access.aclsEnabled ? ACLEvaluation.objectPermission(for: action.name) : nil
        let needsTags = action.key != nil
            && (access.policy?.mentionsExistingObjectTags == true || identityPolicies.contains(where: \.mentionsExistingObjectTags))
        var object: ObjectLookup = .notNeeded
        if objectPermission != nil || needsTags { object = try await lookUpObject(action) }
        if case .found(let record) = object {
            for tag in record.metadata.tags ?? [] { extraKeys["s3:existingobjecttag/\(tag.key.lowercased())"] = [tag.value] }
        }
        if let permission = objectPermission {
            // An object's own ACL decides, and in ObjectWriter buckets its writer owns it.
            if case .found(let record) = object, let acl = record.metadata.acl {
                owner = directory.identity(accountID: acl.owner) ?? owner
                aclMatch = ACLEvaluation.match(acl, permission: permission, caller: caller, ignorePublic: ignorePublic)
            }
        } else if access.aclsEnabled, let permission = ACLEvaluation.bucketPermission(for: action.name), let acl = access.acl {
            aclMatch = ACLEvaluation.match(acl, permission: permission, caller: caller, ignorePublic: ignorePublic)
        }
        var policy = access.policy
        if access.publicAccessBlock?.restrictPublicBuckets == true, caller.account != access.owner, access.policyIsPublic {
            // RestrictPublicBuckets: a public policy (by AWS's rule, PolicyDocument.isPublic) serves only the owner's
            // account; anonymous callers and other accounts keep nothing of it but its Deny statements.
            policy = policy?.denialsOnly
        }
        if owner != access.owner {
            // A bucket policy grants nothing on an object another account owns; its Deny statements still bind.
            policy = policy?.denialsOnly
        }
        let decision = decide(
            action: action, owner: owner, policy: policy, acl: aclMatch, identityPolicies: identityPolicies,
            extraKeys: extraKeys, context: context)
        if decision == .allow { return }
        // A missing object is 404 to a caller who may list the bucket, 403 to anyone else (AWS's GetObject and
        // HeadObject documentation): a caller denied the read learns it is missing if it may list.
        if decision == .deny(explicit: false), Self.readsObject.contains(action.name) {
            if case .notNeeded = object { object = try await lookUpObject(action) }
            if case .missing = object {
                let list = IAMAction("s3:ListBucket", resource: "arn:aws:s3:::\(bucket)", bucket: bucket, prefixKey: action.key)
                if try await allows(list, access: access, policy: policy, identityPolicies: identityPolicies, context: context) { return }
            }
        }
        throw S3Error(.accessDenied)
    }

    static let readsObject: Set<String> = ["s3:GetObject", "s3:GetObjectVersion"]

    /// Whether ListBucket is allowed, judged as a listing whose prefix is the key in question, so that a grant
    /// limited by s3:prefix reveals only its own keys.
    private func allows(
        _ list: IAMAction, access: BucketAccess, policy: PolicyDocument?, identityPolicies: [PolicyDocument], context: RequestContext
    ) async throws -> Bool {
        var aclMatch = GrantMatch.none
        if access.aclsEnabled, let acl = access.acl {
            let ignorePublic = access.publicAccessBlock?.ignorePublicAcls == true
            aclMatch = ACLEvaluation.match(acl, permission: .read, caller: context.auth.caller, ignorePublic: ignorePublic)
        }
        return decide(
            action: list, owner: access.owner, policy: policy, acl: aclMatch, identityPolicies: identityPolicies,
            extraKeys: ["s3:prefix": [list.prefixKey ?? ""]], context: context) == .allow
    }

    enum ObjectLookup {
        case notNeeded, missing
        case found(ObjectRecord)
    }

    /// The object (or version) an action names.
    private func lookUpObject(_ action: IAMAction) async throws -> ObjectLookup {
        guard let bucket = action.bucket, let key = action.key else { return .notNeeded }
        let record: ObjectRecord?
        if let versionID = action.versionID {
            record = try? await index.objectVersion(bucket: bucket, key: key, versionID: versionID)
        } else {
            record = try? await index.object(bucket: bucket, key: key)
        }
        guard let record, !record.isDeleteMarker else { return .missing }
        return .found(record)
    }

    static let policyActions: Set<String> = ["s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy"]

    private func check(_ decision: Decision) throws {
        guard decision == .allow else { throw S3Error(.accessDenied) }
    }

    private func decide(
        action: IAMAction, owner: AccountIdentity?, policy: PolicyDocument?, acl: GrantMatch = .none,
        identityPolicies: [PolicyDocument]? = nil, extraKeys: [String: [String]] = [:], context: RequestContext
    ) -> Decision {
        let identityPolicies = identityPolicies ?? directory.identityPolicies(context.auth.caller)
        // Most requests meet no Condition and no policy variable: their keys (a formatted time, header copies) are
        // gathered only when a statement will read them.
        var keys: [String: [String]] = [:]
        if policy?.readsRequestKeys == true || identityPolicies.contains(where: \.readsRequestKeys) {
            keys = ConditionKeys.values(for: context)
            keys.merge(extraKeys) { _, extra in extra }
        }
        let request = AuthorizationRequest(
            caller: context.auth.caller, action: action.name, resource: action.resource, resourceOwner: owner, context: keys)
        return PolicyEvaluator.decide(request, identityPolicies: identityPolicies, bucketPolicy: policy, acl: acl)
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

    func invalidateAll() {
        state.withLock { state in
            state.generation &+= 1
            state.entries.removeAll(keepingCapacity: true)
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
        for header in ["x-amz-acl", "x-amz-grant-read", "x-amz-grant-write", "x-amz-grant-read-acp", "x-amz-grant-write-acp",
                       "x-amz-grant-full-control", "x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id",
                       "x-amz-server-side-encryption-customer-algorithm",
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
