import ObjectStore
import S3Auth
import S3Wire

/// The KMS action S3 performs on a request's behalf, which the caller must be allowed on the key.
/// https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html#aws-managed-customer-managed-keys
enum KeyUse: String, Sendable {
    /// Sealing new bytes: PutObject, POST, CopyObject's destination, CreateMultipartUpload.
    case generateDataKey = "kms:GenerateDataKey"
    /// Opening sealed bytes: GetObject, CopyObject's and UploadPartCopy's source, and UploadPart (AWS asks it of
    /// every part of an SSE-KMS upload).
    case decrypt = "kms:Decrypt"
}

extension Authorizer {
    /// Throws AccessDenied unless the request's caller may use `key` as `use` says: the key policy must allow it,
    /// and for an IAM user whose account the policy names, the user's own policies too (``KeyPolicyEvaluator``).
    /// An anonymous request never uses a key: S3 answers it as AWS does, asking for a signature.
    func requireKey(_ use: KeyUse, _ key: KMSKey, keyring: Keyring, context: RequestContext) throws {
        let caller = context.auth.caller
        guard caller != .anonymous else { throw Self.kmsNeedsSignature }
        let keyPolicy = keyring.policy(of: key)
        let identityPolicies = directory.identityPolicies(caller)
        var keys = KeyPolicyEvaluator.conditionKeys(for: caller, region: keyring.region)
        if keyPolicy?.readsRequestKeys == true || identityPolicies.contains(where: \.readsRequestKeys) {
            keys.merge(ConditionKeys.values(for: context)) { kms, _ in kms }
        }
        let request = AuthorizationRequest(
            caller: caller, action: use.rawValue, resource: keyring.arn(of: key),
            resourceOwner: directory.identity(accountID: key.accountID), context: keys)
        guard KeyPolicyEvaluator.decide(request, keyPolicy: keyPolicy, identityPolicies: identityPolicies) == .allow else {
            throw S3Error(.accessDenied)
        }
    }

    /// AWS's answer to an anonymous request that would read or write with a KMS key.
    static let kmsNeedsSignature = S3Error(
        .invalidArgument, "Requests specifying Server Side Encryption with AWS KMS managed keys require AWS Signature Version 4.")
}
