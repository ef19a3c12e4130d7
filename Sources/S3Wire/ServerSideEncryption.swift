import Digest
import Foundation
import ObjectStore

/// What a request asks about server-side encryption, read from its `x-amz-server-side-encryption*` headers (or a
/// POST form's fields of those names), with AWS's validation and error answers.
/// https://docs.aws.amazon.com/AmazonS3/latest/userguide/serv-side-encryption.html
public enum EncryptionRequest: Equatable, Sendable {
    case s3
    case kms(keyID: String?, context: String?, bucketKeyEnabled: Bool?, dualLayer: Bool)
    case customer(CustomerKey)
}

/// An SSE-C key as a request sends it: the 32 key bytes and the base64 of their MD5.
public struct CustomerKey: Equatable, Sendable {
    public let key: [UInt8]
    public let md5: String
}

public enum ServerSideEncryptionHeaders {
    public static let algorithm = "x-amz-server-side-encryption"
    public static let kmsKeyID = "x-amz-server-side-encryption-aws-kms-key-id"
    public static let context = "x-amz-server-side-encryption-context"
    public static let bucketKeyEnabled = "x-amz-server-side-encryption-bucket-key-enabled"
    public static let customerPrefix = "x-amz-server-side-encryption-customer-"
    public static let copySourceCustomerPrefix = "x-amz-copy-source-server-side-encryption-customer-"

    /// The encryption a write (PutObject, CopyObject's destination, CreateMultipartUpload, POST) asks for; nil
    /// when it names none. `field` looks a header up by its lowercased name.
    public static func parseWrite(_ field: (String) -> String?) throws(S3Error) -> EncryptionRequest? {
        let customer = try customerKey(field, prefix: customerPrefix)
        let method = field(algorithm)
        let keyID = field(kmsKeyID)
        let contextValue = field(context)
        let bucketKey = field(bucketKeyEnabled)
        if let customer {
            guard method == nil, keyID == nil, contextValue == nil else {
                throw S3Error(.invalidArgument, "Server Side Encryption with Customer provided key is incompatible with the encryption method specified",
                              details: [("ArgumentName", algorithm), ("ArgumentValue", method ?? "")])
            }
            return .customer(customer)
        }
        guard let method else {
            if keyID != nil || contextValue != nil {
                throw S3Error(.invalidArgument, "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms",
                              details: [("ArgumentName", algorithm)])
            }
            return nil
        }
        var bucketKeyFlag: Bool? = nil
        if let bucketKey {
            switch bucketKey.lowercased() {
            case "true": bucketKeyFlag = true
            case "false": bucketKeyFlag = false
            default: throw S3Error(.invalidArgument, "The value of \(bucketKeyEnabled) is not valid.",
                                   details: [("ArgumentName", bucketKeyEnabled), ("ArgumentValue", bucketKey)])
            }
        }
        switch method {
        case ObjectEncryption.Mode.s3.rawValue:
            guard keyID == nil, contextValue == nil else {
                throw S3Error(.invalidArgument, "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms",
                              details: [("ArgumentName", algorithm), ("ArgumentValue", method)])
            }
            return .s3
        case ObjectEncryption.Mode.kms.rawValue, ObjectEncryption.Mode.kmsDualLayer.rawValue:
            if let contextValue { try checkContext(contextValue) }
            if let keyID, keyID.isEmpty {
                throw S3Error(.invalidArgument, "KMS key id must not be empty.", details: [("ArgumentName", kmsKeyID)])
            }
            return .kms(keyID: keyID, context: contextValue, bucketKeyEnabled: bucketKeyFlag,
                        dualLayer: method == ObjectEncryption.Mode.kmsDualLayer.rawValue)
        default:
            throw S3Error(.invalidArgument, "The encryption method specified is not supported",
                          details: [("ArgumentName", algorithm), ("ArgumentValue", method)])
        }
    }

    /// The SSE-C key a request sends under `prefix` (`x-amz-server-side-encryption-customer-` or the copy
    /// source's), checked against its MD5; nil if it sends none of those headers.
    public static func customerKey(_ field: (String) -> String?, prefix: String = customerPrefix) throws(S3Error) -> CustomerKey? {
        let algorithmValue = field(prefix + "algorithm")
        let keyValue = field(prefix + "key")
        let md5Value = field(prefix + "key-md5")
        guard algorithmValue != nil || keyValue != nil || md5Value != nil else { return nil }
        guard let algorithmValue else {
            throw S3Error(.invalidArgument, "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.",
                          details: [("ArgumentName", prefix + "algorithm")])
        }
        guard algorithmValue == "AES256" else {
            throw S3Error(.invalidEncryptionAlgorithmError, details: [("ArgumentName", prefix + "algorithm"), ("ArgumentValue", algorithmValue)])
        }
        guard let keyValue else {
            throw S3Error(.invalidArgument, "Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.",
                          details: [("ArgumentName", prefix + "key")])
        }
        guard let key = decodeBase64(keyValue), key.count == AESGCM.keySize else {
            throw S3Error(.invalidArgument, "The secret key was invalid for the specified algorithm.",
                          details: [("ArgumentName", prefix + "key")])
        }
        guard let md5Value else {
            throw S3Error(.invalidArgument, "Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.",
                          details: [("ArgumentName", prefix + "key-MD5")])
        }
        var md5 = MD5()
        md5.update(key)
        guard decodeBase64(md5Value) == md5.finalize() else {
            throw S3Error(.invalidArgument, "The calculated MD5 hash of the key did not match the hash that was provided.",
                          details: [("ArgumentName", prefix + "key-MD5")])
        }
        return CustomerKey(key: key, md5: md5Value)
    }

    /// An encryption context must be base64 of a JSON object of string values.
    static func checkContext(_ value: String) throws(S3Error) {
        guard let bytes = decodeBase64(value),
              let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              object.values.allSatisfy({ $0 is String })
        else {
            throw S3Error(.invalidArgument, "The header 'x-amz-server-side-encryption-context' shall be Base64-encoded UTF-8 string holding JSON which represents a string-string map",
                          details: [("ArgumentName", context)])
        }
    }
}

/// The ServerSideEncryptionConfiguration document of Put/GetBucketEncryption.
/// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketEncryption.html
public enum BucketEncryptionXML {
    public static let maxDocumentBytes = 16 << 10

    public static func parse(_ document: [UInt8]) throws(S3Error) -> BucketEncryption {
        guard document.count <= maxDocumentBytes else { throw S3Error(.malformedXML) }
        let root = try XMLReader.parse(document)
        guard root.name == "ServerSideEncryptionConfiguration" else { throw S3Error(.malformedXML) }
        let rules = root.children("Rule")
        guard rules.count == 1, let byDefault = rules[0].child("ApplyServerSideEncryptionByDefault"),
              let algorithm = byDefault.child("SSEAlgorithm")?.text.trimmingCharacters(in: .whitespacesAndNewlines)
        else { throw S3Error(.malformedXML) }
        let keyID = byDefault.child("KMSMasterKeyID")?.text.trimmingCharacters(in: .whitespacesAndNewlines)
        let bucketKey: Bool
        switch rules[0].child("BucketKeyEnabled")?.text.trimmingCharacters(in: .whitespacesAndNewlines) {
        case nil, "false": bucketKey = false
        case "true": bucketKey = true
        default: throw S3Error(.malformedXML)
        }
        switch algorithm {
        case ObjectEncryption.Mode.s3.rawValue:
            guard keyID == nil || keyID!.isEmpty else {
                throw S3Error(.invalidArgument, "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse",
                              details: [("ArgumentName", "ApplyServerSideEncryptionByDefault")])
            }
            return BucketEncryption(algorithm: algorithm, kmsKeyID: nil, bucketKeyEnabled: bucketKey)
        case ObjectEncryption.Mode.kms.rawValue, ObjectEncryption.Mode.kmsDualLayer.rawValue:
            return BucketEncryption(algorithm: algorithm, kmsKeyID: keyID?.isEmpty == true ? nil : keyID, bucketKeyEnabled: bucketKey)
        default:
            throw S3Error(.malformedXML)
        }
    }

    public static func write(_ encryption: BucketEncryption) -> XMLWriter {
        var xml = XMLWriter()
        xml.element("ServerSideEncryptionConfiguration", namespace: XMLWriter.s3Namespace) { x in
            x.element("Rule") { rule in
                rule.element("ApplyServerSideEncryptionByDefault") { d in
                    d.element("SSEAlgorithm", encryption.algorithm)
                    d.optionalElement("KMSMasterKeyID", encryption.kmsKeyID)
                }
                rule.element("BucketKeyEnabled", encryption.bucketKeyEnabled)
            }
        }
        return xml
    }
}
