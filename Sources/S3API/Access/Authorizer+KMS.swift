import Foundation
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

/// What S3 tells KMS a use of a key is for, its encryption context, which key and IAM policies may test:
/// `kms:EncryptionContext:aws:s3:arn` (the object's ARN, or the bucket's for an object written with an S3 Bucket
/// Key), `kms:EncryptionContext:NAME` for each pair of the request's own context, and `kms:EncryptionContextKeys`.
/// https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html#encryption-context
struct KeyUseContext: Sendable {
    var pairs: [String: String] = [:]

    /// - Parameter requested: `x-amz-server-side-encryption-context` as sent or recorded (base64 of a JSON object
    ///   of strings, checked when the write was accepted).
    init(bucket: String, key: String?, bucketKey: Bool, requested: String?) {
        if let requested, let json = Data(base64Encoded: requested),
           let given = try? JSONDecoder().decode([String: String].self, from: json) {
            pairs = given
        }
        pairs["aws:s3:arn"] = bucketKey || key == nil ? "arn:aws:s3:::\(bucket)" : "arn:aws:s3:::\(bucket)/\(key ?? "")"
    }

    var conditionKeys: [String: [String]] {
        var keys = ["kms:encryptioncontextkeys": pairs.keys.sorted()]
        for (name, value) in pairs { keys["kms:encryptioncontext:\(name.lowercased())"] = [value] }
        return keys
    }
}

extension Authorizer {
    /// Throws AccessDenied unless the request's caller may use `key` as `use` says: the key policy must allow it,
    /// and for an IAM user whose account the policy names, the user's own policies too (``KeyPolicyEvaluator``).
    /// An anonymous request never uses a key: S3 answers it as AWS does, asking for a signature.
    func requireKey(_ use: KeyUse, _ key: KMSKey, for purpose: KeyUseContext, keyring: Keyring, context: RequestContext) throws {
        let caller = context.auth.caller
        guard caller != .anonymous else { throw Self.kmsNeedsSignature }
        let keyPolicy = keyring.policy(of: key)
        let identityPolicies = directory.identityPolicies(caller)
        var keys = KeyPolicyEvaluator.conditionKeys(for: caller, region: keyring.region)
        keys.merge(purpose.conditionKeys) { kms, _ in kms }
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
