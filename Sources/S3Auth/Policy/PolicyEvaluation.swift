import Foundation

/// An account, as policies and ACLs name it.
public struct AccountIdentity: Sendable, Equatable, Hashable {
    /// Twelve digits.
    public var id: String
    /// 64 hex digits: the id ACLs and `CanonicalUser` principals use.
    public var canonicalID: String

    public init(id: String, canonicalID: String) {
        self.id = id
        self.canonicalID = canonicalID
    }

    public var rootARN: String { "arn:aws:iam::\(id):root" }
}

/// Who made a request.
public enum Caller: Sendable, Equatable {
    case anonymous
    /// An account's root credentials.
    case root(AccountIdentity)
    /// An IAM user of an account.
    case user(AccountIdentity, name: String, userID: String)

    public var account: AccountIdentity? {
        switch self {
        case .anonymous: nil
        case .root(let account), .user(let account, _, _): account
        }
    }

    public var arn: String? {
        switch self {
        case .anonymous: nil
        case .root(let account): account.rootARN
        case .user(let account, let name, _): "arn:aws:iam::\(account.id):user/\(name)"
        }
    }
}

/// How closely a grant names a caller: not at all, through the caller's account (which must then delegate to its
/// users with identity policies), or the caller itself.
public enum GrantMatch: Int, Sendable, Comparable {
    case none, account, caller
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One request to authorize: who, what action on which resource, owned by which account, and the values of the
/// condition keys (by lower-cased key; several values for multivalued keys).
public struct AuthorizationRequest: Sendable {
    public var caller: Caller
    /// `s3:GetObject`, ...
    public var action: String
    /// `arn:aws:s3:::bucket/key`, `arn:aws:s3:::bucket`, or `*` for ListBuckets.
    public var resource: String
    /// The account owning the resource; nil for requests on no bucket (ListBuckets, CreateBucket).
    public var resourceOwner: AccountIdentity?
    public var context: [String: [String]]

    public init(caller: Caller, action: String, resource: String, resourceOwner: AccountIdentity?, context: [String: [String]] = [:]) {
        self.caller = caller
        self.action = action
        self.resource = resource
        self.resourceOwner = resourceOwner
        self.context = Dictionary(context.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
        // The principal's global keys, as IAM fills them in.
        if let account = caller.account {
            self.context["aws:principalaccount"] = [account.id]
            self.context["aws:principalarn"] = caller.arn.map { [$0] }
        }
        switch caller {
        case .anonymous: self.context["aws:principaltype"] = ["Anonymous"]
        case .root(let account):
            self.context["aws:principaltype"] = ["Account"]
            self.context["aws:userid"] = [account.id]
        case .user(_, let name, let userID):
            self.context["aws:principaltype"] = ["User"]
            self.context["aws:username"] = [name]
            self.context["aws:userid"] = [userID]
        }
    }
}

public enum Decision: Sendable, Equatable {
    case allow
    /// Denied: by an explicit Deny statement, or because nothing allowed it.
    case deny(explicit: Bool)
}

/// AWS's policy evaluation for S3, reduced to what one server with accounts, users, bucket policies and ACLs needs.
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
public enum PolicyEvaluator {
    /// - Parameters:
    ///   - identityPolicies: the caller's identity policies (IAM users only; an account root needs none).
    ///   - bucketPolicy: the bucket's policy, if any.
    ///   - acl: how closely the bucket's or object's ACL grants the action to the caller.
    public static func decide(
        _ request: AuthorizationRequest, identityPolicies: [PolicyDocument], bucketPolicy: PolicyDocument?, acl: GrantMatch
    ) -> Decision {
        guard let (identityAllows, resourceGrant) = statements(for: request, identityPolicies, bucketPolicy) else {
            return .deny(explicit: true)
        }
        let grant = max(resourceGrant, acl)
        let sameAccount = request.caller.account != nil && request.caller.account == request.resourceOwner
        let allowed: Bool
        switch request.caller {
        case .anonymous:
            allowed = grant == .caller
        case .root:
            // An account's root may do anything with what its account owns, and anything another account grants it.
            allowed = sameAccount || request.resourceOwner == nil || grant >= .account
        case .user:
            if sameAccount || request.resourceOwner == nil {
                allowed = identityAllows || resourceGrant == .caller
            } else {
                // Across accounts both sides must agree: the user's account, and the resource's.
                allowed = identityAllows && grant >= .account
            }
        }
        return allowed ? .allow : .deny(explicit: false)
    }

    /// What the caller's identity policies and a resource's policy say of the request: nil when a Deny statement
    /// applies (it wins whatever else allows), else whether an identity statement allows it and how closely the
    /// resource policy grants it to the caller. S3's and KMS's evaluations differ only in what they make of these.
    static func statements(
        for request: AuthorizationRequest, _ identityPolicies: [PolicyDocument], _ resourcePolicy: PolicyDocument?
    ) -> (identityAllows: Bool, resourceGrant: GrantMatch)? {
        var identityAllows = false
        for policy in identityPolicies {
            for statement in policy.statements where statement.applies(to: request) {
                if statement.effect == .deny { return nil }
                identityAllows = true
            }
        }
        var resourceGrant = GrantMatch.none
        for statement in resourcePolicy?.statements ?? [] {
            let match = statement.principalMatch(request.caller)
            guard match != .none, statement.applies(to: request) else { continue }
            if statement.effect == .deny { return nil }
            resourceGrant = max(resourceGrant, match)
        }
        return (identityAllows, resourceGrant)
    }
}

extension PolicyStatement {
    /// Whether the statement's Action, Resource and Condition cover the request (its principal aside).
    func applies(to request: AuthorizationRequest) -> Bool {
        let actionMatches = actions.values.contains { Wildcard.matches($0, request.action, ignoringCase: true) }
        guard actionMatches != actions.negated else { return false }
        let resourceMatches = resources.values.contains { pattern in
            guard let pattern = PolicyVariables.substitute(pattern, request.context) else { return false }
            return Wildcard.matches(pattern, request.resource)
        }
        guard resourceMatches != resources.negated else { return false }
        return conditions.allSatisfy { $0.holds(for: request) }
    }

    /// How the statement's Principal (or NotPrincipal) names the caller.
    func principalMatch(_ caller: Caller) -> GrantMatch {
        if let principal { return principal.match(caller) }
        if let notPrincipal { return notPrincipal.match(caller) == .none ? .caller : .none }
        return .none
    }
}

extension PolicyStatement.Principals {
    func match(_ caller: Caller) -> GrantMatch {
        if everyone { return .caller }
        guard let account = caller.account else { return .none }
        var best = GrantMatch.none
        let namesAccount = aws.contains(account.id) || aws.contains(account.rootARN) || canonicalUsers.contains(account.canonicalID)
        if namesAccount { best = caller == .root(account) ? .caller : .account }
        if let arn = caller.arn, aws.contains(arn) { best = .caller }
        return best
    }
}

extension PolicyCondition {
    func holds(for request: AuthorizationRequest) -> Bool {
        let substituted = values.compactMap { PolicyVariables.substitute($0, request.context) }
        return condition.holds(policyValues: substituted, requestValues: request.context[key.lowercased()])
    }
}

/// `${aws:username}` and the like in Resource and Condition values, filled from the request's keys; `${*}`, `${?}`
/// and `${$}` stand for the literal characters.
enum PolicyVariables {
    /// The text with its variables replaced; nil if one names a key the request lacks (the element then matches
    /// nothing, as on AWS).
    static func substitute(_ text: String, _ context: [String: [String]]) -> String? {
        guard text.contains("${") else { return text }
        var out = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            out += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else { return out + rest[start.lowerBound...] }
            let name = rest[start.upperBound..<end].trimmingCharacters(in: .whitespaces)
            switch name {
            case "*", "?", "$": out += name
            default:
                guard let value = context[name.lowercased()]?.first else { return nil }
                out += value
            }
            rest = rest[rest.index(after: end)...]
        }
        return out + rest
    }
}
