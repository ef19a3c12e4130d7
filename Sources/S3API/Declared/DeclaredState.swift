import Foundation
import ObjectStore
import S3Auth
import S3Wire

/// Accounts, IAM users and buckets a configuration file declares, brought in line at start-up so that a CI job
/// gets a ready server from one command. Applying is idempotent: what exists and matches is left alone; what is
/// missing is created; a declared setting that differs is set again. Settings a declaration leaves out are not
/// touched. Each item carries where it was declared (`FILE:LINE`) for its error messages.
public struct DeclaredState: Sendable {
    public struct Account: Sendable {
        public var name: String
        public var email: String?
        public var accessKey: String?
        public var secretKey: String?
        public var source: String

        public init(name: String, email: String? = nil, accessKey: String? = nil, secretKey: String? = nil, source: String) {
            self.name = name
            self.email = email
            self.accessKey = accessKey
            self.secretKey = secretKey
            self.source = source
        }
    }

    public struct User: Sendable {
        /// The owning account's name; nil for the operator's.
        public var account: String?
        public var name: String
        public var accessKey: String?
        public var secretKey: String?
        /// Inline policies by name: JSON text.
        public var policies: [(name: String, document: String)]
        public var source: String

        public init(account: String?, name: String, accessKey: String?, secretKey: String?, policies: [(name: String, document: String)], source: String) {
            self.account = account
            self.name = name
            self.accessKey = accessKey
            self.secretKey = secretKey
            self.policies = policies
            self.source = source
        }
    }

    public struct Bucket: Sendable {
        public var name: String
        /// The owning account's name; nil for the operator's.
        public var account: String?
        public var versioning: String?
        /// S3's own documents, as the API takes them: XML for lifecycle, CORS and notifications; JSON for the policy.
        public var lifecycle: String?
        public var cors: String?
        public var policy: String?
        public var notification: String?
        /// `AES256` or `aws:kms`, with an optional key id.
        public var encryption: String?
        public var kmsKeyID: String?
        public var source: String

        public init(name: String, account: String? = nil, source: String) {
            self.name = name
            self.account = account
            self.source = source
        }
    }

    public var accounts: [Account] = []
    public var users: [User] = []
    public var buckets: [Bucket] = []

    public init() {}

    public var isEmpty: Bool { accounts.isEmpty && users.isEmpty && buckets.isEmpty }
}

/// A declaration that cannot be applied: where it is, and why.
public struct DeclarationError: Error, CustomStringConvertible, Sendable {
    public var description: String

    init(_ source: String, _ reason: String) {
        description = "\(source): \(reason)"
    }
}

extension DeclaredState {
    /// Creates or updates what is declared. Runs before the server takes requests (no cache to invalidate).
    public func apply(
        storage: Storage, directory: IdentityDirectory, keyring: Keyring, configuration: S3ServerConfiguration
    ) async throws {
        for account in accounts { try await apply(account, directory) }
        for user in users { try await apply(user, directory) }
        for bucket in buckets { try await apply(bucket, storage: storage, directory: directory, keyring: keyring, configuration: configuration) }
    }

    private func apply(_ declared: Account, _ directory: IdentityDirectory) async throws {
        if (declared.accessKey == nil) != (declared.secretKey == nil) {
            throw DeclarationError(declared.source, "access-key and secret-key go together")
        }
        guard let existing = try await directory.account(named: declared.name) else {
            _ = try await directory.addAccount(
                name: declared.name, displayName: nil, email: declared.email, accessKey: declared.accessKey, secretKey: declared.secretKey)
            return
        }
        if let id = declared.accessKey, let secret = declared.secretKey {
            try await ensureKey(id: id, secret: secret, accountID: existing.id, userName: nil, directory, source: declared.source)
        }
    }

    private func apply(_ declared: User, _ directory: IdentityDirectory) async throws {
        let account = try await account(named: declared.account, directory, source: declared.source)
        if (declared.accessKey == nil) != (declared.secretKey == nil) {
            throw DeclarationError(declared.source, "access-key and secret-key go together")
        }
        if try await directory.index.user(accountID: account.id, name: declared.name) == nil {
            do {
                _ = try await directory.createUser(accountID: account.id, name: declared.name, path: "/")
            } catch let error as IdentityError {
                throw DeclarationError(declared.source, "user \(declared.name): \(error)")
            }
        }
        if let id = declared.accessKey, let secret = declared.secretKey {
            try await ensureKey(id: id, secret: secret, accountID: account.id, userName: declared.name, directory, source: declared.source)
        }
        let existing = try await directory.index.userPolicies(accountID: account.id, userName: declared.name)
        for (name, document) in declared.policies {
            do throws(MalformedPolicy) {
                let parsed = try PolicyDocument.parse(Array(document.utf8), kind: .identity)
                if let address = parsed.invalidAddress {
                    throw MalformedPolicy("Invalid IP address or CIDR block in condition: \(address)")
                }
            } catch {
                throw DeclarationError(declared.source, "policy \(name) of user \(declared.name): \(error.message)")
            }
            if existing.first(where: { $0.name == name })?.document != document {
                try await directory.putUserPolicy(accountID: account.id, userName: declared.name, policyName: name, document: document)
            }
        }
        // The file is the truth for a declared user's inline policies.
        for (name, _) in existing where !declared.policies.contains(where: { $0.name == name }) {
            try await directory.deleteUserPolicy(accountID: account.id, userName: declared.name, policyName: name)
        }
    }

    private func apply(
        _ declared: Bucket, storage: Storage, directory: IdentityDirectory, keyring: Keyring, configuration: S3ServerConfiguration
    ) async throws {
        let fail = { (reason: String) in DeclarationError(declared.source, "bucket \(declared.name): \(reason)") }
        do { try BucketName.validate(declared.name) } catch { throw fail(error.message) }
        let owner = try await account(named: declared.account, directory, source: declared.source)
        // Every document is checked before anything changes, so a bad one leaves the bucket as it was.
        func document<T>(_ text: String?, _ what: String, _ parse: ([UInt8]) throws(S3Error) -> T) throws -> T? {
            guard let text else { return nil }
            do { return try parse(Array(text.utf8)) } catch { throw fail("\(what): \(error.message)") }
        }
        let lifecycle = try document(declared.lifecycle, "lifecycle", LifecycleXML.parse)
        let cors = try document(declared.cors, "cors", CORSXML.parse)
        let notification = try document(declared.notification, "notification") { bytes throws(S3Error) in
            try NotificationXML.parse(bytes, knownTargets: configuration.notificationTargets)
        }
        var publicPolicy = false
        if let policy = declared.policy {
            do {
                let parsed = try PolicyDocument.parse(Array(policy.utf8), kind: .resource)
                if parsed.resourceOutside(bucket: declared.name) != nil { throw fail("policy: a resource is outside the bucket") }
                if let address = parsed.invalidAddress { throw fail("policy: invalid IP address or CIDR block in condition: \(address)") }
                publicPolicy = parsed.isPublic
            } catch let error as MalformedPolicy {
                throw fail("policy: \(error.message)")
            }
        }
        let versioning = try declared.versioning.map { text throws(DeclarationError) in
            guard let state = VersioningState(rawValue: text) else { throw fail("versioning is Enabled or Suspended, not \(text)") }
            return state
        }
        var encryption: BucketEncryption?
        if let algorithm = declared.encryption {
            guard algorithm == "AES256" || algorithm == "aws:kms" else { throw fail("encryption is AES256 or aws:kms, not \(algorithm)") }
            if algorithm == "AES256", declared.kmsKeyID != nil { throw fail("kms-key-id goes with aws:kms") }
            if algorithm == "aws:kms", let keyID = declared.kmsKeyID {
                do { _ = try await keyring.resolve(keyID, account: owner.id) } catch { throw fail("no KMS key \(keyID)") }
            }
            encryption = BucketEncryption(algorithm: algorithm, kmsKeyID: declared.kmsKeyID, bucketKeyEnabled: false)
        }

        if let existing = try await storage.index.bucket(named: declared.name) {
            if existing.owner != owner.id { throw fail("it exists and belongs to another account") }
        } else {
            let defaults = configuration.bucketDefaults
            try await storage.index.createBucket(BucketInfo(
                name: declared.name, creationDate: Date(), region: configuration.region, owner: owner.id,
                ownership: defaults.ownership, publicAccessBlock: defaults.publicAccessBlock))
        }
        let bucket = declared.name
        let current = try await storage.index.bucket(named: bucket)
        if let versioning, current?.versioning != versioning {
            do { try await storage.index.setVersioning(versioning, bucket: bucket) } catch { throw fail("versioning: \(error)") }
        }
        if let lifecycle { try await storage.index.setLifecycle(lifecycle, bucket: bucket) }
        if let cors { try await storage.index.setCORS(cors, bucket: bucket) }
        if let policy = declared.policy {
            if publicPolicy, current?.publicAccessBlock?.blockPublicPolicy == true {
                throw fail("policy: it is public and Block Public Access is on for the bucket (bucket-defaults: open, or a narrower policy)")
            }
            try await storage.index.setBucketPolicy(policy, bucket: bucket)
        }
        if let encryption { try await storage.index.setBucketEncryption(encryption, bucket: bucket) }
        if let notification, try await storage.index.notification(bucket: bucket) != notification {
            try await storage.index.setNotification(notification.rules.isEmpty ? nil : notification, bucket: bucket, testEvents: [])
        }
    }

    private func account(named name: String?, _ directory: IdentityDirectory, source: String) async throws -> ObjectStore.Account {
        guard let found = try await directory.account(named: name ?? "martlet") else {
            throw DeclarationError(source, "no account named \(name ?? "martlet") (declare it under accounts)")
        }
        return found
    }

    /// Makes `id` a key of this account (or user) with `secret`: created if missing, its secret set if it differs.
    private func ensureKey(
        id: String, secret: String, accountID: String, userName: String?, _ directory: IdentityDirectory, source: String
    ) async throws {
        if let existing = try await directory.index.accessKey(id: id) {
            guard existing.accountID == accountID, existing.userName == userName else {
                throw DeclarationError(source, "access key \(id) belongs to someone else")
            }
            try await directory.setSecret(secret, accessKeyID: id)
        } else {
            do {
                try await directory.addAccessKey(id: id, secret: secret, accountID: accountID, userName: userName)
            } catch let error as IdentityError {
                throw DeclarationError(source, "access key \(id): \(error)")
            }
        }
    }
}
