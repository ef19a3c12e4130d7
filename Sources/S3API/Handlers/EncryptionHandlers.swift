import Digest
import Foundation
import HTTPTypes
import HummingbirdCore
import ObjectStore
import S3Wire

/// How a write's blobs are sealed, decided before its body is read.
struct WriteSealing: Sendable {
    /// What the object records and reports.
    var encryption: ObjectEncryption
    var wrapping: Keyring.Wrapping

    /// Whether a blob sealed for `other` may be shared by this write (a copy with the same keys).
    func canShare(blobsOf other: ObjectEncryption?) -> Bool {
        guard let other, other.mode == encryption.mode else { return false }
        switch encryption.mode {
        case .s3: return true
        case .kms, .kmsDualLayer: return other.kmsKeyID == encryption.kmsKeyID
        case .customer: return other.customerKeyCheck != nil && other.customerKeyMD5 == encryption.customerKeyMD5
        }
    }
}

/// Server-side encryption: Put/Get/DeleteBucketEncryption, and what every object operation needs to seal,
/// unseal and report encrypted objects.
extension S3Handlers {
    func getBucketEncryption(_ bucket: String) async throws -> S3Response {
        guard let encryption = try await requireBucket(bucket).encryption else {
            throw S3Error(.serverSideEncryptionConfigurationNotFoundError, details: [("BucketName", bucket)])
        }
        return .xml(BucketEncryptionXML.write(encryption))
    }

    func putBucketEncryption(_ bucket: String, _ context: RequestContext, body: RequestBody) async throws -> S3Response {
        let info = try await requireBucket(bucket)
        let encryption = try BucketEncryptionXML.parse(
            try await body.collectVerifiedDocument(context, limit: BucketEncryptionXML.maxDocumentBytes))
        if let keyID = encryption.kmsKeyID, let account = context.auth.caller.account?.id ?? info.owner {
            // A key of the caller's account must exist now; it is kept as given, so GetBucketEncryption returns it
            // unchanged. Another account's ARN is not looked up (that would tell whether the account has the key):
            // each write that uses it is checked against its key policy.
            let name = Keyring.KeyName.parse(keyID, region: configuration.keyring.region)
            if name?.account == nil || name?.account == account {
                _ = try await configuration.keyring.resolve(keyID, account: account)
            }
        }
        try await storage.index.setBucketEncryption(encryption, bucket: bucket)
        return .empty(.ok)
    }

    func deleteBucketEncryption(_ bucket: String) async throws -> S3Response {
        _ = try await requireBucket(bucket)
        try await storage.index.setBucketEncryption(nil, bucket: bucket)
        return .empty(.noContent)
    }

    /// The sealing a write gets: what its headers (or form fields) ask for, else the bucket's default; nil for a
    /// plain write.
    func writeSealing(_ request: EncryptionRequest?, bucket: BucketInfo, _ context: RequestContext) async throws -> WriteSealing? {
        let keyring = configuration.keyring
        let effective: EncryptionRequest
        if let request {
            effective = request
        } else if let byDefault = bucket.encryption {
            if byDefault.algorithm == ObjectEncryption.Mode.s3.rawValue {
                effective = .s3
            } else {
                effective = .kms(keyID: byDefault.kmsKeyID, context: nil, bucketKeyEnabled: byDefault.bucketKeyEnabled,
                                 dualLayer: byDefault.algorithm == ObjectEncryption.Mode.kmsDualLayer.rawValue)
            }
        } else {
            return nil
        }
        switch effective {
        case .s3:
            return WriteSealing(encryption: ObjectEncryption(mode: .s3), wrapping: .master)
        case .kms(let keyID, let encryptionContext, let bucketKeyEnabled, let dualLayer):
            let reportedBucketKey = bucketKeyEnabled ?? bucket.encryption.map(\.bucketKeyEnabled)
            let purpose = KeyUseContext(
                bucket: bucket.name, key: context.endpoint.iamAction(versioned: false)?.key, bucketKey: reportedBucketKey == true,
                requested: encryptionContext)
            let key = try await usableKey(keyID, for: .generateDataKey, purpose, context)
            return WriteSealing(
                encryption: ObjectEncryption(
                    mode: dualLayer ? .kmsDualLayer : .kms, kmsKeyID: keyring.arn(of: key), context: encryptionContext,
                    bucketKeyEnabled: reportedBucketKey == true ? true : nil),
                wrapping: .kms(key))
        case .customer(let customer):
            try Self.requireSecureTransport(context)
            return WriteSealing(
                encryption: ObjectEncryption(
                    mode: .customer, customerKeyMD5: customer.md5, customerKeyCheck: Self.customerKeyCheck(customer.key)),
                wrapping: .customer(customer.key))
        }
    }

    /// The sealing of a part of `upload` (UploadPart, UploadPartCopy): the upload's encryption, and for SSE-C the
    /// request's key, which must be the one the upload was initiated with.
    func partSealing(_ upload: MultipartUpload, _ context: RequestContext) async throws -> WriteSealing? {
        let customer = try ServerSideEncryptionHeaders.customerKey { context.nonEmptyHeader($0) }
        guard let encryption = upload.metadata.encryption else {
            if customer != nil {
                throw S3Error(.invalidRequest, "The encryption parameters are not applicable to this object.")
            }
            return nil
        }
        switch encryption.mode {
        case .s3:
            return WriteSealing(encryption: encryption, wrapping: .master)
        case .kms, .kmsDualLayer:
            let key = try await configuration.keyring.recordedKey(encryption.kmsKeyID)
            let purpose = KeyUseContext(
                bucket: upload.bucket, key: upload.key, bucketKey: encryption.bucketKeyEnabled == true, requested: encryption.context)
            try requireKey(.decrypt, key, purpose, context)
            return WriteSealing(encryption: encryption, wrapping: .kms(key))
        case .customer:
            guard let customer else {
                throw S3Error(.invalidRequest, "The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.")
            }
            try Self.requireSecureTransport(context)
            guard let check = encryption.customerKeyCheck, Self.customerKeyMatches(customer.key, check: check) else {
                throw S3Error(.invalidRequest, "The provided encryption parameters did not match the ones used originally.")
            }
            return WriteSealing(encryption: encryption, wrapping: .customer(customer.key))
        }
    }

    /// The KMS key a write names (nil: the caller's account's `aws/s3` key), resolved in the caller's account and
    /// checked for this use by the authorizer.
    func usableKey(_ name: String?, for use: KeyUse, _ purpose: KeyUseContext, _ context: RequestContext) async throws -> KMSKey {
        guard let account = context.auth.caller.account else { throw Authorizer.kmsNeedsSignature }
        let key = try await configuration.keyring.resolve(name, account: account.id)
        try requireKey(use, key, purpose, context)
        return key
    }

    /// Throws unless the caller may use `key` as `use` says; a disabled key is refused only to those who may use it.
    func requireKey(_ use: KeyUse, _ key: KMSKey, _ purpose: KeyUseContext, _ context: RequestContext) throws {
        try authorizer.requireKey(use, key, for: purpose, keyring: configuration.keyring, context: context)
        guard key.enabled else { throw S3Error(.kmsDisabled, "\(configuration.keyring.arn(of: key)) is disabled.") }
    }

    /// ``unsealer(for:_:prefix:)`` for a request that reads the object's bytes (GetObject, a copy's source): an
    /// SSE-KMS object's bytes also need `kms:Decrypt` on its key. HEAD reads none, so needs it only to report
    /// checksums (`x-amz-checksum-mode`), as on AWS.
    func readingUnsealer(
        for record: ObjectRecord, _ context: RequestContext, prefix: String = ServerSideEncryptionHeaders.customerPrefix
    ) async throws -> (any BlobUnsealer)? {
        let unsealer = try unsealer(for: record, context, prefix: prefix)
        guard let encryption = record.metadata.encryption, encryption.mode == .kms || encryption.mode == .kmsDualLayer else {
            return unsealer
        }
        if case .headObject = context.endpoint, context.header("x-amz-checksum-mode")?.uppercased() != "ENABLED" {
            return unsealer
        }
        guard context.auth.caller != .anonymous else { throw Authorizer.kmsNeedsSignature }
        let purpose = KeyUseContext(
            bucket: record.bucket, key: record.key, bucketKey: encryption.bucketKeyEnabled == true, requested: encryption.context)
        try requireKey(.decrypt, try await configuration.keyring.recordedKey(encryption.kmsKeyID), purpose, context)
        return unsealer
    }

    /// The writer a sealed write streams into: every blob gets its own data key.
    func sealedWriter(_ writer: any BlobWriter, _ sealing: WriteSealing?) throws -> any BlobWriter {
        guard let sealing else { return writer }
        let (dataKey, envelope) = try configuration.keyring.newDataKey(sealing.wrapping)
        return try SealingBlobWriter(writer, dataKey: dataKey, envelope: envelope)
    }

    /// An object's ETag: the MD5 of its bytes, except for SSE-C and SSE-KMS, where S3's ETag is not (so it
    /// reveals nothing of the plaintext): here an MD5 of the plaintext's MD5 and a value of the key. The same
    /// bytes under the same key get the same ETag, so a part sent again still matches the ETag first returned.
    static func etag(md5: [UInt8], _ sealing: WriteSealing?) -> String {
        guard let sealing else { return md5.hexString }
        var digest = MD5()
        switch sealing.wrapping {
        case .master: return md5.hexString
        case .kms(let key): digest.update(md5 + Array(key.id.utf8))
        case .customer(let key): digest.update(md5 + HMAC.sha256(key: key, message: Array("martlet etag".utf8)))
        }
        return digest.finalize().hexString
    }

    /// The request's SSE-C key checked against the object: the unsealer a read of `record` goes through, nil for
    /// a plain object. `prefix` picks the copy source's headers for a copy.
    func unsealer(
        for record: ObjectRecord, _ context: RequestContext, prefix: String = ServerSideEncryptionHeaders.customerPrefix
    ) throws -> (any BlobUnsealer)? {
        // The common case, a plain object read without SSE-C headers, costs three lookups by prebuilt name.
        if record.metadata.encryption == nil, prefix == ServerSideEncryptionHeaders.customerPrefix,
           !Self.customerHeaders.contains(where: { context.headers[$0] != nil }) {
            return nil
        }
        let customer = try ServerSideEncryptionHeaders.customerKey({ context.nonEmptyHeader($0) }, prefix: prefix)
        guard let encryption = record.metadata.encryption else {
            if customer != nil {
                throw S3Error(.invalidRequest, "The encryption parameters are not applicable to this object.")
            }
            return nil
        }
        guard encryption.mode == .customer else {
            if customer != nil {
                throw S3Error(.invalidRequest, "The encryption parameters are not applicable to this object.")
            }
            return KeyringUnsealer(keyring: configuration.keyring, customerKey: nil)
        }
        guard let customer else {
            throw S3Error(.invalidRequest, "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.")
        }
        try Self.requireSecureTransport(context)
        guard let check = encryption.customerKeyCheck, Self.customerKeyMatches(customer.key, check: check) else {
            throw S3Error(.accessDenied, "The provided encryption key does not match the key the object was stored with.")
        }
        return KeyringUnsealer(keyring: configuration.keyring, customerKey: customer.key)
    }

    /// GET and HEAD carry SSE-C headers only: `x-amz-server-side-encryption*` on a read is refused, as AWS does.
    static func refuseEncryptionHeadersOnRead(_ context: RequestContext) throws(S3Error) {
        for name in writeOnlyHeaders {
            guard let value = context.headers[name] else { continue }
            throw S3Error(.invalidArgument, "Unsupported header '\(name.canonicalName)' received for this API call.",
                          details: [("ArgumentName", name.canonicalName), ("ArgumentValue", value)])
        }
    }

    static let writeOnlyHeaders: [HTTPField.Name] = [.amzServerSideEncryption, .amzServerSideEncryptionKMSKeyID, .amzServerSideEncryptionContext]
    static let customerHeaders: [HTTPField.Name] = [
        .amzServerSideEncryptionCustomerAlgorithm, HTTPField.Name("x-amz-server-side-encryption-customer-key")!,
        .amzServerSideEncryptionCustomerKeyMD5,
    ]

    /// `x-amz-server-side-encryption*` response headers, as S3 reports an object's encryption.
    static func addEncryptionHeaders(_ encryption: ObjectEncryption?, to headers: inout HTTPFields) {
        guard let encryption else { return }
        switch encryption.mode {
        case .s3, .kms, .kmsDualLayer:
            headers[.amzServerSideEncryption] = encryption.mode.rawValue
            if let keyID = encryption.kmsKeyID { headers[.amzServerSideEncryptionKMSKeyID] = keyID }
            if let context = encryption.context { headers[.amzServerSideEncryptionContext] = context }
            if encryption.bucketKeyEnabled == true { headers[.amzServerSideEncryptionBucketKeyEnabled] = "true" }
        case .customer:
            headers[.amzServerSideEncryptionCustomerAlgorithm] = "AES256"
            if let md5 = encryption.customerKeyMD5 { headers[.amzServerSideEncryptionCustomerKeyMD5] = md5 }
        }
    }

    static func requireSecureTransport(_ context: RequestContext) throws(S3Error) {
        guard context.connection.isTLS else {
            throw S3Error(.invalidRequest, "Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.")
        }
    }

    static let customerCheckLabel = Array("martlet sse-c key check".utf8)

    /// base64 of a random salt and an HMAC of it under the customer key: checks a key without storing it.
    static func customerKeyCheck(_ key: [UInt8]) -> String {
        let salt = Array(KeyEnvelope.randomKey().prefix(16))
        return (salt + HMAC.sha256(key: key, message: salt + customerCheckLabel)).base64String
    }

    static func customerKeyMatches(_ key: [UInt8], check: String) -> Bool {
        guard let bytes = decodeBase64(check), bytes.count == 48 else { return false }
        let salt = Array(bytes.prefix(16))
        let expected = HMAC.sha256(key: key, message: salt + customerCheckLabel)
        // Compared in constant time: the MAC is a secret's derivative.
        return zip(expected, bytes.suffix(32)).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

extension HTTPField.Name {
    static let amzServerSideEncryption = HTTPField.Name("x-amz-server-side-encryption")!
    static let amzServerSideEncryptionKMSKeyID = HTTPField.Name("x-amz-server-side-encryption-aws-kms-key-id")!
    static let amzServerSideEncryptionContext = HTTPField.Name("x-amz-server-side-encryption-context")!
    static let amzServerSideEncryptionBucketKeyEnabled = HTTPField.Name("x-amz-server-side-encryption-bucket-key-enabled")!
    static let amzServerSideEncryptionCustomerAlgorithm = HTTPField.Name("x-amz-server-side-encryption-customer-algorithm")!
    static let amzServerSideEncryptionCustomerKeyMD5 = HTTPField.Name("x-amz-server-side-encryption-customer-key-MD5")!
}
