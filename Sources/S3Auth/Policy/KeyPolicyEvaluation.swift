import Foundation

/// AWS KMS's authorization of one use of a key: unlike S3, the key policy is where access starts. Its owning account
/// has no access the key policy does not give it; a statement naming an account (its id or root ARN) lets that
/// account's root use the key and its IAM users too when their own identity policies allow it, and a statement
/// naming a user, or every principal, lets that caller use it directly. An explicit Deny in either wins, and an
/// anonymous caller never uses a key.
/// https://docs.aws.amazon.com/kms/latest/developerguide/determining-access-key-policy.html
/// https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html
public enum KeyPolicyEvaluator {
    /// - Parameters:
    ///   - request: the caller, the action (`kms:GenerateDataKey`, `kms:Decrypt`), the key's ARN as the resource and
    ///     the key's account as its owner; its context should hold `kms:CallerAccount` (see ``conditionKeys(for:)``).
    ///   - keyPolicy: the key's policy; nil allows nothing.
    ///   - identityPolicies: the caller's identity policies (IAM users).
    public static func decide(
        _ request: AuthorizationRequest, keyPolicy: PolicyDocument?, identityPolicies: [PolicyDocument]
    ) -> Decision {
        guard request.caller != .anonymous else { return .deny(explicit: false) }
        guard let (identityAllows, grant) = PolicyEvaluator.statements(for: request, identityPolicies, keyPolicy) else {
            return .deny(explicit: true)
        }
        let allowed: Bool
        switch request.caller {
        case .anonymous: allowed = false
        // The root of an account the key policy names acts for that account.
        case .root: allowed = grant >= .account
        case .user: allowed = grant == .caller || (grant == .account && identityAllows)
        }
        return allowed ? .allow : .deny(explicit: false)
    }

    /// The KMS condition keys a use through S3 carries: the caller's account, and the service the use comes through.
    public static func conditionKeys(for caller: Caller, region: String) -> [String: [String]] {
        var keys: [String: [String]] = ["kms:viaservice": ["s3.\(region).amazonaws.com"]]
        if let account = caller.account { keys["kms:calleraccount"] = [account.id] }
        return keys
    }
}
