import Foundation
import NIOCore

/// How an object's bytes are encrypted at rest, as S3 reports it (`x-amz-server-side-encryption*`). Every blob of
/// an encrypted object is sealed; the data keys are in the blobs, sealed under the key this names.
public struct ObjectEncryption: Sendable, Codable, Equatable {
    public enum Mode: String, Sendable, Codable {
        /// SSE-S3: data keys sealed under the server's master key.
        case s3 = "AES256"
        /// SSE-KMS: data keys sealed under a key of the built-in key service.
        case kms = "aws:kms"
        /// SSE-KMS, dual-layer on AWS; here the same sealing, reported as asked.
        case kmsDualLayer = "aws:kms:dsse"
        /// SSE-C: data keys sealed under the key the client sends with each request.
        case customer = "SSE-C"
    }

    public var mode: Mode
    /// SSE-KMS: the key's ARN.
    public var kmsKeyID: String?
    /// SSE-KMS: `x-amz-server-side-encryption-context` as sent (base64 of a JSON object).
    public var context: String?
    /// SSE-KMS: whether the object was written with an S3 Bucket Key.
    public var bucketKeyEnabled: Bool?
    /// SSE-C: base64 of the customer key's MD5, as S3 reports it.
    public var customerKeyMD5: String?
    /// SSE-C: a salted HMAC of the customer key (base64 of salt ‖ MAC), to tell a wrong key from the right one
    /// before opening anything. The key itself is never stored.
    public var customerKeyCheck: String?

    public init(
        mode: Mode, kmsKeyID: String? = nil, context: String? = nil, bucketKeyEnabled: Bool? = nil,
        customerKeyMD5: String? = nil, customerKeyCheck: String? = nil
    ) {
        self.mode = mode
        self.kmsKeyID = kmsKeyID
        self.context = context
        self.bucketKeyEnabled = bucketKeyEnabled
        self.customerKeyMD5 = customerKeyMD5
        self.customerKeyCheck = customerKeyCheck
    }
}

/// A bucket's default encryption (PutBucketEncryption): what objects written without encryption headers get.
public struct BucketEncryption: Sendable, Codable, Equatable {
    /// `AES256`, `aws:kms` or `aws:kms:dsse`.
    public var algorithm: String
    /// For `aws:kms`: the key id or ARN as configured; nil for the default key.
    public var kmsKeyID: String?
    public var bucketKeyEnabled: Bool

    public init(algorithm: String, kmsKeyID: String? = nil, bucketKeyEnabled: Bool = false) {
        self.algorithm = algorithm
        self.kmsKeyID = kmsKeyID
        self.bucketKeyEnabled = bucketKeyEnabled
    }
}

/// A key of the built-in key service: its material is kept sealed under the server's master key. Like an AWS KMS
/// key, it belongs to one account, whose ids and aliases name it, and its key policy says who else may use it.
public struct KMSKey: Sendable, Equatable {
    /// A UUID, as AWS's key ids are: unique on the server, whichever account owns the key.
    public var id: String
    /// The account that owns the key.
    public var accountID: String
    /// Unique within the owning account (`alias/NAME` names it there).
    public var alias: String?
    public var description: String
    public var created: Date
    public var enabled: Bool
    /// The key's 32 bytes, sealed under the master key (bound to the id).
    public var sealedMaterial: [UInt8]
    /// The key policy's JSON text (see ``KMSKeyPolicy``).
    public var policy: String

    public init(
        id: String, accountID: String, alias: String?, description: String, created: Date, enabled: Bool,
        sealedMaterial: [UInt8], policy: String
    ) {
        self.id = id
        self.accountID = accountID
        self.alias = alias
        self.description = description
        self.created = created
        self.enabled = enabled
        self.sealedMaterial = sealedMaterial
        self.policy = policy
    }
}

/// The key policies keys get when their creator gives none, as AWS KMS writes them.
/// https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
public enum KMSKeyPolicy {
    /// AWS's limit on a key policy.
    public static let maxBytes = 32 * 1024

    /// The alias of an account's AWS managed key for S3, which SSE-KMS uses when a request names no key.
    public static let managedS3Alias = "aws/s3"

    /// AWS's default key policy: the owning account's root may do anything with the key, so the account's IAM
    /// policies decide for its users; no other account may use it.
    public static func defaultPolicy(accountID: String) -> String {
        """
        {"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow",\
        "Principal":{"AWS":"arn:aws:iam::\(accountID):root"},"Action":"kms:*","Resource":"*"}]}
        """
    }

    /// The policy AWS gives an account's managed key `aws/s3`: every principal of that account may use it through
    /// S3 with no KMS permission of its own (and no other account may). AWS also pins `kms:ViaService` to S3; here
    /// every use of a key is through S3, so the condition would always hold and is left out.
    public static func managedS3Policy(accountID: String) -> String {
        """
        {"Version":"2012-10-17","Id":"auto-s3-2","Statement":[{"Sid":"Allow access through S3 for all principals in the \
        account that are authorized to use S3","Effect":"Allow","Principal":{"AWS":"*"},"Action":["kms:Encrypt",\
        "kms:Decrypt","kms:ReEncrypt*","kms:GenerateDataKey*","kms:DescribeKey"],"Resource":"*","Condition":\
        {"StringEquals":{"kms:CallerAccount":"\(accountID)"}}},{"Sid":"Allow direct access to key metadata to the \
        account","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::\(accountID):root"},"Action":["kms:Describe*",\
        "kms:Get*","kms:List*"],"Resource":"*"}]}
        """
    }

    /// The policy a new key gets when its creator gives none.
    public static func initialPolicy(alias: String?, accountID: String) -> String {
        alias == managedS3Alias ? managedS3Policy(accountID: accountID) : defaultPolicy(accountID: accountID)
    }
}

/// Where the key service keeps its keys.
public protocol KMSKeyIndex: Sendable {
    /// Records a new key. Throws ``StoreError/keyAlreadyExists`` if its account has a key with its alias.
    func createKMSKey(_ key: KMSKey) async throws
    /// Every key of every account, oldest first.
    func kmsKeys() async throws -> [KMSKey]
    /// The key with this id, whichever account owns it.
    func kmsKey(id: String) async throws -> KMSKey?
    /// The key of `accountID` with this id or alias (`alias/NAME` or `NAME`), if any.
    func kmsKey(named name: String, accountID: String) async throws -> KMSKey?
    /// Replaces every key's sealed material at once (a master key rotation), keyed by id.
    func resealKMSKeys(_ materials: [String: [UInt8]]) async throws
}

/// Reads the plaintext of sealed blobs. An encrypted object's reads pass through one, which knows the keys.
public protocol BlobUnsealer: Sendable {
    /// Calls `body` with the plaintext bytes `range` of the sealed blob `blob`, in order, in pieces of about
    /// `chunkSize`. Throws ``StoreError/integrityFailure(_:)`` for a blob that does not authenticate.
    func read(
        _ blob: any BlobReader, plaintext range: Range<Int64>, chunkSize: Int, _ body: (ByteBuffer) async throws -> Void
    ) async throws
}
