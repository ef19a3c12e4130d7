import Digest
import Foundation
import ObjectStore
import Testing

@testable import S3API
@testable import S3Wire

@Suite("Server-side encryption: request headers, the bucket configuration document, key checks")
struct ServerSideEncryptionTests {
    static let key = [UInt8](repeating: 0x42, count: 32)
    static var keyBase64: String { key.base64String }
    static var keyMD5: String {
        var md5 = MD5()
        md5.update(key)
        return md5.finalize().base64String
    }

    enum Expected<Value: Sendable>: Sendable {
        case success(Value)
        case failure(S3ErrorCode)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let headers: [String: String]
        let expected: Expected<EncryptionRequest?>
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "no encryption headers", headers: [:], expected: .success(nil)),
        Case(name: "SSE-S3", headers: ["x-amz-server-side-encryption": "AES256"], expected: .success(.s3)),
        Case(name: "SSE-KMS without a key", headers: ["x-amz-server-side-encryption": "aws:kms"],
             expected: .success(.kms(keyID: nil, context: nil, bucketKeyEnabled: nil, dualLayer: false))),
        Case(name: "DSSE-KMS with a key and a bucket key",
             headers: ["x-amz-server-side-encryption": "aws:kms:dsse", "x-amz-server-side-encryption-aws-kms-key-id": "k",
                       "x-amz-server-side-encryption-bucket-key-enabled": "true"],
             expected: .success(.kms(keyID: "k", context: nil, bucketKeyEnabled: true, dualLayer: true))),
        Case(name: "SSE-C", headers: ["x-amz-server-side-encryption-customer-algorithm": "AES256",
                                       "x-amz-server-side-encryption-customer-key": keyBase64,
                                       "x-amz-server-side-encryption-customer-key-md5": keyMD5],
             expected: .success(.customer(CustomerKey(key: key, md5: keyMD5)))),
        Case(name: "an unknown method", headers: ["x-amz-server-side-encryption": "aes:kms"], expected: .failure(.invalidArgument)),
        Case(name: "a KMS key without aws:kms", headers: ["x-amz-server-side-encryption-aws-kms-key-id": "k"],
             expected: .failure(.invalidArgument)),
        Case(name: "a KMS key with AES256",
             headers: ["x-amz-server-side-encryption": "AES256", "x-amz-server-side-encryption-aws-kms-key-id": "k"],
             expected: .failure(.invalidArgument)),
        Case(name: "a context that is not base64 JSON",
             headers: ["x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-context": "bm90IGpzb24="],
             expected: .failure(.invalidArgument)),
        Case(name: "SSE-C beside SSE-S3",
             headers: ["x-amz-server-side-encryption": "AES256", "x-amz-server-side-encryption-customer-algorithm": "AES256",
                       "x-amz-server-side-encryption-customer-key": keyBase64, "x-amz-server-side-encryption-customer-key-md5": keyMD5],
             expected: .failure(.invalidArgument)),
        Case(name: "SSE-C with another algorithm",
             headers: ["x-amz-server-side-encryption-customer-algorithm": "AES192",
                       "x-amz-server-side-encryption-customer-key": keyBase64, "x-amz-server-side-encryption-customer-key-md5": keyMD5],
             expected: .failure(.invalidEncryptionAlgorithmError)),
        Case(name: "SSE-C key without the algorithm",
             headers: ["x-amz-server-side-encryption-customer-key": keyBase64, "x-amz-server-side-encryption-customer-key-md5": keyMD5],
             expected: .failure(.invalidArgument)),
        Case(name: "SSE-C without the key MD5",
             headers: ["x-amz-server-side-encryption-customer-algorithm": "AES256", "x-amz-server-side-encryption-customer-key": keyBase64],
             expected: .failure(.invalidArgument)),
        Case(name: "SSE-C with a wrong key MD5",
             headers: ["x-amz-server-side-encryption-customer-algorithm": "AES256", "x-amz-server-side-encryption-customer-key": keyBase64,
                       "x-amz-server-side-encryption-customer-key-md5": "AAAAAAAAAAAAAAAAAAAAAA=="],
             expected: .failure(.invalidArgument)),
        Case(name: "SSE-C with a 16-byte key",
             headers: ["x-amz-server-side-encryption-customer-algorithm": "AES256",
                       "x-amz-server-side-encryption-customer-key": Array(key.prefix(16)).base64String,
                       "x-amz-server-side-encryption-customer-key-md5": keyMD5],
             expected: .failure(.invalidArgument)),
    ]

    @Test(arguments: cases)
    func writeHeaders(_ test: Case) throws {
        let lookup = { (name: String) in test.headers[name] }
        switch test.expected {
        case .success(let request):
            #expect(try ServerSideEncryptionHeaders.parseWrite(lookup) == request)
        case .failure(let code):
            #expect(s3ErrorCode { try ServerSideEncryptionHeaders.parseWrite(lookup) } == code)
        }
    }

    struct Document: CustomTestStringConvertible, Sendable {
        let name: String
        let xml: String
        let expected: Expected<BucketEncryption>
        var testDescription: String { name }
    }

    static func rule(_ inner: String, bucketKey: String = "") -> String {
        "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>\(inner)</ApplyServerSideEncryptionByDefault>\(bucketKey)</Rule></ServerSideEncryptionConfiguration>"
    }

    static let documents: [Document] = [
        Document(name: "AES256", xml: rule("<SSEAlgorithm>AES256</SSEAlgorithm>"), expected: .success(BucketEncryption(algorithm: "AES256"))),
        Document(name: "aws:kms with a key and a bucket key",
                 xml: rule("<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>k</KMSMasterKeyID>", bucketKey: "<BucketKeyEnabled>true</BucketKeyEnabled>"),
                 expected: .success(BucketEncryption(algorithm: "aws:kms", kmsKeyID: "k", bucketKeyEnabled: true))),
        Document(name: "AES256 with a KMS key", xml: rule("<SSEAlgorithm>AES256</SSEAlgorithm><KMSMasterKeyID>k</KMSMasterKeyID>"),
                 expected: .failure(.invalidArgument)),
        Document(name: "an unknown algorithm", xml: rule("<SSEAlgorithm>ROT13</SSEAlgorithm>"), expected: .failure(.malformedXML)),
        Document(name: "no rule", xml: "<ServerSideEncryptionConfiguration/>", expected: .failure(.malformedXML)),
        Document(name: "another root", xml: "<WebsiteConfiguration/>", expected: .failure(.malformedXML)),
    ]

    @Test(arguments: documents)
    func bucketDocument(_ test: Document) throws {
        switch test.expected {
        case .success(let configuration):
            let parsed = try BucketEncryptionXML.parse(Array(test.xml.utf8))
            #expect(parsed == configuration)
            #expect(try BucketEncryptionXML.parse(Array(BucketEncryptionXML.write(parsed).text.utf8)) == parsed)
        case .failure(let code):
            #expect(s3ErrorCode { try BucketEncryptionXML.parse(Array(test.xml.utf8)) } == code)
        }
    }

    @Test("an SSE-C key check accepts its key alone, and holds no copy of it")
    func customerKeyCheck() {
        let check = S3Handlers.customerKeyCheck(Self.key)
        #expect(S3Handlers.customerKeyMatches(Self.key, check: check))
        #expect(!S3Handlers.customerKeyMatches([UInt8](repeating: 0x43, count: 32), check: check))
        #expect(!S3Handlers.customerKeyMatches(Self.key, check: "garbage"))
        #expect(S3Handlers.customerKeyCheck(Self.key) != check, "each check has its own salt")
        #expect(!(decodeBase64(check) ?? []).windows(ofCount: 32).contains(Self.key))
    }

    @Test("the master key ring opens with any of its keys and seals with the first")
    func masterKeyRing() throws {
        let old = MasterKey(bytes: [UInt8](repeating: 1, count: 32))
        let sealed = old.seal(material: Self.key, boundTo: "id")
        let ring = MasterKey(bytes: [UInt8](repeating: 2, count: 32), previous: [old.bytes])
        #expect(ring.open(material: sealed, boundTo: "id") == Self.key)
        #expect(ring.open(material: sealed, boundTo: "other") == nil)
        #expect(ring.key(fingerprint: old.fingerprint) == old.bytes)
        #expect(MasterKey(bytes: ring.bytes).open(material: sealed, boundTo: "id") == nil)
        #expect(ring.isRotating && !old.isRotating)
    }

    @Test("the key file holds the ring, current key first, mode 0600")
    func keyFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-key-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let made = try MasterKey.load(dataDirectory: folder, environment: [:])
        #expect(try MasterKey.load(dataDirectory: folder, environment: [:]).bytes == made.bytes)
        let mode = try FileManager.default.attributesOfItem(atPath: folder + "/master.key")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let ring = MasterKey(bytes: [UInt8](repeating: 9, count: 32), previous: [made.bytes])
        try ring.write(to: folder)
        let loaded = try MasterKey.load(dataDirectory: folder, environment: [:])
        #expect(loaded.bytes == ring.bytes && loaded.previous == [made.bytes])
        let fromEnvironment = try MasterKey.load(
            dataDirectory: folder, environment: ["MARTLET_MASTER_KEY": "\(ring.bytes.base64String),\(made.bytes.base64String)"])
        #expect(fromEnvironment.bytes == ring.bytes && fromEnvironment.previous == [made.bytes])
        #expect(throws: MasterKey.Failure.self) { try MasterKey.load(dataDirectory: folder, environment: ["MARTLET_MASTER_KEY": "short"]) }
    }
}

extension Array where Element == UInt8 {
    func windows(ofCount count: Int) -> [[UInt8]] {
        guard self.count >= count else { return [] }
        return (0...(self.count - count)).map { Array(self[$0..<($0 + count)]) }
    }
}
