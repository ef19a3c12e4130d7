import Foundation
import ObjectStore
import S3Auth
import Synchronization
import Testing

@testable import S3API
@testable import S3Wire

/// Keys in memory, looked up as the SQLite index does: by id or alias within an account, by id alone.
private final class AccountKeys: KMSKeyIndex {
    let keys = Mutex<[KMSKey]>([])
    func createKMSKey(_ key: KMSKey) async throws {
        try keys.withLock { keys in
            if key.alias != nil, keys.contains(where: { $0.accountID == key.accountID && $0.alias == key.alias }) {
                throw StoreError.keyAlreadyExists
            }
            keys.append(key)
        }
    }
    func kmsKeys() async throws -> [KMSKey] { keys.withLock { $0 } }
    func kmsKey(id: String) async throws -> KMSKey? { keys.withLock { $0.first { $0.id == id } } }
    func kmsKey(named name: String, accountID: String) async throws -> KMSKey? {
        let alias = name.hasPrefix("alias/") ? String(name.dropFirst(6)) : name
        return keys.withLock { $0.first { $0.accountID == accountID && ($0.id == name || $0.alias == alias) } }
    }
    func resealKMSKeys(_ materials: [String: [UInt8]]) async throws {}
}

@Suite("KMS keys: resolution within the caller's account, and who the key policy lets use a key")
struct KMSKeyAccessTests {
    static let a = "111111111111"
    static let b = "222222222222"

    /// Account A has `alias/media` and an unaliased key; account B has its own `alias/media`.
    struct World {
        let keyring: Keyring
        let aMedia: KMSKey
        let aPlain: KMSKey
        let bMedia: KMSKey

        static func make() async throws -> World {
            let keyring = Keyring(
                masterKey: MasterKey(bytes: [UInt8](repeating: 7, count: 32)), keys: AccountKeys(), region: "us-east-1",
                accountID: a)
            return World(
                keyring: keyring,
                aMedia: try await keyring.createKey(alias: "media", description: "", accountID: a),
                aPlain: try await keyring.createKey(alias: nil, description: "", accountID: a),
                bMedia: try await keyring.createKey(alias: "media", description: "", accountID: b))
        }
    }

    enum Expected: Sendable, Equatable {
        case aMedia, aPlain, bMedia
        case notFound, accessDenied
    }

    struct Resolution: CustomTestStringConvertible, Sendable {
        let testDescription: String
        /// The name as sent; `{a-media}` and the like stand for the keys' ids, made fresh for each run.
        let name: String
        let caller: String
        let expected: Expected
    }

    static let resolutions: [Resolution] = [
        Resolution(testDescription: "an alias in the caller's account", name: "alias/media", caller: a, expected: .aMedia),
        Resolution(testDescription: "the same alias in another account is that account's key", name: "alias/media", caller: b, expected: .bMedia),
        Resolution(testDescription: "a key id of the caller's account", name: "{a-plain}", caller: a, expected: .aPlain),
        Resolution(testDescription: "another account's key id is not found in the caller's", name: "{a-plain}", caller: b, expected: .notFound),
        Resolution(testDescription: "a key ARN of the caller's account", name: "arn:aws:kms:us-east-1:\(a):key/{a-plain}", caller: a, expected: .aPlain),
        Resolution(testDescription: "another account's key ARN resolves (its policy decides)", name: "arn:aws:kms:us-east-1:\(a):key/{a-plain}", caller: b, expected: .aPlain),
        Resolution(testDescription: "an alias ARN names the alias in its account", name: "arn:aws:kms:us-east-1:\(b):alias/media", caller: a, expected: .bMedia),
        Resolution(testDescription: "an ARN whose account does not own the key is not that key", name: "arn:aws:kms:us-east-1:\(b):key/{a-plain}", caller: b, expected: .notFound),
        Resolution(testDescription: "... nor, for another account, does it say whether the key exists", name: "arn:aws:kms:us-east-1:\(b):key/{a-plain}", caller: a, expected: .accessDenied),
        Resolution(testDescription: "another account's missing key is AccessDenied too", name: "arn:aws:kms:us-east-1:\(b):key/00000000-0000-0000-0000-000000000000", caller: a, expected: .accessDenied),
        Resolution(testDescription: "a key ARN naming an alias is not a key", name: "arn:aws:kms:us-east-1:\(a):key/media", caller: a, expected: .notFound),
        Resolution(testDescription: "another region's ARN", name: "arn:aws:kms:eu-west-1:\(a):key/{a-plain}", caller: a, expected: .notFound),
        Resolution(testDescription: "another partition's ARN", name: "arn:aws-cn:kms:us-east-1:\(a):key/{a-plain}", caller: a, expected: .notFound),
        Resolution(testDescription: "an ARN with no key", name: "arn:aws:kms:us-east-1:\(a):key/", caller: a, expected: .notFound),
        Resolution(testDescription: "an ARN with a malformed account", name: "arn:aws:kms:us-east-1:1111:key/{a-plain}", caller: a, expected: .notFound),
        Resolution(testDescription: "an S3 ARN", name: "arn:aws:s3:::bucket", caller: a, expected: .notFound),
        Resolution(testDescription: "an unknown alias", name: "alias/none", caller: a, expected: .notFound),
    ]

    @Test("resolution", arguments: resolutions)
    func resolves(_ test: Resolution) async throws {
        let world = try await World.make()
        let name = test.name.replacingOccurrences(of: "{a-plain}", with: world.aPlain.id)
        do {
            let key = try await world.keyring.resolve(name, account: test.caller)
            let found: Expected = switch key.id {
            case world.aMedia.id: .aMedia
            case world.aPlain.id: .aPlain
            case world.bMedia.id: .bMedia
            default: .notFound
            }
            #expect(found == test.expected)
        } catch let error as S3Error {
            #expect(error.code == (test.expected == .accessDenied ? .accessDenied : .kmsNotFound), "\(error)")
            #expect(test.expected == .notFound || test.expected == .accessDenied)
        }
    }

    @Test("each account's default key is its own alias/aws/s3, made once, with AWS's managed-key policy")
    func defaultKeys() async throws {
        let world = try await World.make()
        let aDefault = try await world.keyring.resolve(nil, account: Self.a)
        let bDefault = try await world.keyring.resolve(nil, account: Self.b)
        #expect(aDefault.id != bDefault.id)
        #expect(aDefault.accountID == Self.a && bDefault.accountID == Self.b)
        #expect(aDefault.alias == "aws/s3" && aDefault.policy == KMSKeyPolicy.managedS3Policy(accountID: Self.a))
        #expect(try await world.keyring.resolve(nil, account: Self.a).id == aDefault.id)
        #expect(try await world.keyring.resolve("alias/aws/s3", account: Self.b).id == bDefault.id)
        #expect(world.keyring.arn(of: bDefault) == "arn:aws:kms:us-east-1:\(Self.b):key/\(bDefault.id)")
        #expect(try await world.keyring.recordedKey(world.keyring.arn(of: bDefault)).id == bDefault.id)
        await #expect(throws: StoreError.self) {
            try await world.keyring.recordedKey("arn:aws:kms:us-east-1:\(Self.a):key/\(bDefault.id)")
        }
    }

    @Test("a key policy that cannot be used is refused when the key is made")
    func badPolicies() async throws {
        let world = try await World.make()
        for text in ["{}", "[]", #"{"Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#,
                     String(repeating: " ", count: KMSKeyPolicy.maxBytes) + "{}"] {
            await #expect(throws: MalformedPolicy.self) {
                _ = try await world.keyring.createKey(alias: nil, description: "", accountID: Self.a, policy: text)
            }
        }
        let every = try await world.keyring.listKeys()
        #expect(every.count == 3)
        #expect(try Keyring.parsePolicy(KMSKeyPolicy.defaultPolicy(accountID: Self.a)).statements.count == 1)
        #expect(try Keyring.parsePolicy(KMSKeyPolicy.managedS3Policy(accountID: Self.a)).statements.count == 2)
    }

    @Test("the encryption context S3 gives KMS names the object, or its bucket under a Bucket Key, and the request's pairs")
    func encryptionContext() {
        let pairs = Data(#"{"project":"blue","Team":"x"}"#.utf8).base64EncodedString()
        #expect(KeyUseContext(bucket: "b", key: "a/k", bucketKey: false, requested: pairs).conditionKeys == [
            "kms:encryptioncontextkeys": ["Team", "aws:s3:arn", "project"],
            "kms:encryptioncontext:aws:s3:arn": ["arn:aws:s3:::b/a/k"],
            "kms:encryptioncontext:project": ["blue"], "kms:encryptioncontext:team": ["x"]])
        #expect(KeyUseContext(bucket: "b", key: "a/k", bucketKey: true, requested: nil).conditionKeys == [
            "kms:encryptioncontextkeys": ["aws:s3:arn"], "kms:encryptioncontext:aws:s3:arn": ["arn:aws:s3:::b"]])
        // A context that is not a JSON object of strings adds nothing (a write checks it before it is accepted).
        #expect(KeyUseContext(bucket: "b", key: "k", bucketKey: false, requested: "bm90IGpzb24=").conditionKeys.count == 2)
    }

    // Default key policy evaluation.

    static let accountA = AccountIdentity(id: a, canonicalID: String(repeating: "a", count: 64))
    static let accountB = AccountIdentity(id: b, canonicalID: String(repeating: "b", count: 64))
    static let ann = Caller.user(accountA, name: "ann", userID: "AIDAANN")
    static let bob = Caller.user(accountB, name: "bob", userID: "AIDABOB")
    static let keyARN = "arn:aws:kms:us-east-1:\(a):key/11111111-1111-1111-1111-111111111111"

    static func identity(_ json: String) -> PolicyDocument {
        try! PolicyDocument.parse(Array(json.utf8), kind: .identity)
    }

    static let mayEncrypt = identity(#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:GenerateDataKey","Resource":"\#(keyARN)"}]}"#)
    static let mayUseAnyKey = identity(#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#)
    static let s3Only = identity(#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#)
    static let otherKey = identity(#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"arn:aws:kms:us-east-1:\#(a):key/other"}]}"#)
    static let denyKMS = identity(#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}]}"#)

    enum PolicyKind: Sendable { case accountDefault, managedS3, sharedWithB, namesAnn }

    static func keyPolicy(_ kind: PolicyKind) -> String {
        switch kind {
        case .accountDefault: KMSKeyPolicy.defaultPolicy(accountID: a)
        case .managedS3: KMSKeyPolicy.managedS3Policy(accountID: a)
        case .sharedWithB:
            #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::\#(a):root"},"Action":"kms:*","Resource":"*"},{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::\#(b):root"},"Action":["kms:Decrypt","kms:GenerateDataKey*"],"Resource":"*"}]}"#
        case .namesAnn:
            #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::\#(a):user/ann"},"Action":"kms:Decrypt","Resource":"*"}]}"#
        }
    }

    struct Use: CustomTestStringConvertible, Sendable {
        let testDescription: String
        let caller: Caller
        var action = "kms:GenerateDataKey"
        let policy: PolicyKind
        var identity: [PolicyDocument] = []
        let allowed: Bool
    }

    static let uses: [Use] = [
        Use(testDescription: "the owning account's root, under the default policy", caller: .root(accountA), policy: .accountDefault, allowed: true),
        Use(testDescription: "a user of the account with no KMS permission", caller: ann, policy: .accountDefault, identity: [s3Only], allowed: false),
        Use(testDescription: "a user whose policy allows GenerateDataKey on the key", caller: ann, policy: .accountDefault, identity: [mayEncrypt], allowed: true),
        Use(testDescription: "... but not Decrypt", caller: ann, action: "kms:Decrypt", policy: .accountDefault, identity: [mayEncrypt], allowed: false),
        Use(testDescription: "a user whose policy names another key", caller: ann, policy: .accountDefault, identity: [otherKey], allowed: false),
        Use(testDescription: "an explicit Deny in the user's policy wins", caller: ann, action: "kms:Decrypt", policy: .accountDefault, identity: [denyKMS], allowed: false),
        Use(testDescription: "another account's root, under the default policy", caller: .root(accountB), policy: .accountDefault, allowed: false),
        Use(testDescription: "another account's user, even with kms:* in its own policy", caller: bob, policy: .accountDefault, identity: [mayUseAnyKey], allowed: false),
        Use(testDescription: "anonymous", caller: .anonymous, policy: .managedS3, allowed: false),
        Use(testDescription: "the managed aws/s3 key: any user of its account, with no KMS permission", caller: ann, policy: .managedS3, identity: [s3Only], allowed: true),
        Use(testDescription: "the managed aws/s3 key: the account's root", caller: .root(accountA), action: "kms:Decrypt", policy: .managedS3, allowed: true),
        Use(testDescription: "the managed aws/s3 key: never another account", caller: .root(accountB), action: "kms:Decrypt", policy: .managedS3, allowed: false),
        Use(testDescription: "the managed aws/s3 key: nor its users", caller: bob, policy: .managedS3, identity: [mayUseAnyKey], allowed: false),
        Use(testDescription: "a policy sharing with B: B's root", caller: .root(accountB), action: "kms:Decrypt", policy: .sharedWithB, allowed: true),
        Use(testDescription: "a policy sharing with B: B's user with its own KMS permission", caller: bob, action: "kms:Decrypt", policy: .sharedWithB, identity: [mayUseAnyKey], allowed: true),
        Use(testDescription: "a policy sharing with B: B's user without", caller: bob, action: "kms:Decrypt", policy: .sharedWithB, identity: [s3Only], allowed: false),
        Use(testDescription: "a policy sharing with B grants B only what it lists", caller: .root(accountB), action: "kms:ScheduleKeyDeletion", policy: .sharedWithB, allowed: false),
        Use(testDescription: "a policy naming a user lets that user in with no IAM policy", caller: ann, action: "kms:Decrypt", policy: .namesAnn, allowed: true),
        Use(testDescription: "a policy that does not name the account locks out even its root", caller: .root(accountA), action: "kms:Decrypt", policy: .namesAnn, allowed: false),
        Use(testDescription: "... and its other users, whatever their IAM policies say", caller: .user(accountA, name: "cy", userID: "AIDACY"), action: "kms:Decrypt", policy: .namesAnn, identity: [mayUseAnyKey], allowed: false),
    ]

    @Test("key policy evaluation", arguments: uses)
    func decides(_ test: Use) throws {
        let request = AuthorizationRequest(
            caller: test.caller, action: test.action, resource: Self.keyARN, resourceOwner: Self.accountA,
            context: KeyPolicyEvaluator.conditionKeys(for: test.caller, region: "us-east-1"))
        let policy = try Keyring.parsePolicy(Self.keyPolicy(test.policy))
        let decision = KeyPolicyEvaluator.decide(request, keyPolicy: policy, identityPolicies: test.identity)
        #expect((decision == .allow) == test.allowed)
    }
}
