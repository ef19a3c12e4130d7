import Foundation
import ObjectStore
import S3Auth
import Synchronization

/// Accounts, users, keys and identity policies, as every request needs them: an in-memory snapshot of the
/// identity tables, with secrets unsealed and policies parsed, replaced after every change made through this
/// directory (the only writer while the server runs), so a disabled account or key is refused from the next
/// request on.
public final class IdentityDirectory: CredentialStore, Sendable {
    let index: any IdentityIndex
    let masterKey: MasterKey
    private let state = Mutex(Snapshot())
    private let loads = Atomic<UInt64>(0)

    struct KeyEntry {
        var secret: String
        var accountID: String
        var userName: String?
        var isActive: Bool
    }

    struct Snapshot {
        var generation: UInt64 = 0
        var keys: [String: KeyEntry] = [:]
        var accounts: [String: Account] = [:]
        var byCanonicalID: [String: String] = [:]
        var users: [String: IAMUser] = [:]
        var policies: [String: [PolicyDocument]] = [:]
    }

    public init(index: any IdentityIndex, masterKey: MasterKey) {
        self.index = index
        self.masterKey = masterKey
    }

    static func userKey(_ accountID: String, _ name: String) -> String { accountID + "/" + name.lowercased() }

    // MARK: Reads, from the snapshot

    public func credential(forAccessKey accessKey: String) -> CredentialLookup {
        state.withLock { snapshot in
            guard let entry = snapshot.keys[accessKey], entry.isActive, let account = snapshot.accounts[entry.accountID] else {
                return .unknown
            }
            if account.isDisabled { return .accountDisabled }
            let identity = AccountIdentity(id: account.id, canonicalID: account.canonicalID)
            guard let userName = entry.userName else { return .valid(Credential(secretKey: entry.secret, caller: .root(identity))) }
            guard let user = snapshot.users[Self.userKey(account.id, userName)] else { return .unknown }
            return .valid(Credential(secretKey: entry.secret, caller: .user(identity, name: user.name, userID: user.userID)))
        }
    }

    /// The inline policies of an IAM user; none for a root or anonymous caller.
    func identityPolicies(_ caller: Caller) -> [PolicyDocument] {
        guard case .user(let account, let name, _) = caller else { return [] }
        return state.withLock { $0.policies[Self.userKey(account.id, name)] ?? [] }
    }

    func account(id: String) -> Account? {
        state.withLock { $0.accounts[id] }
    }

    /// The account id's identity for policies and ACLs.
    func identity(accountID: String) -> AccountIdentity? {
        account(id: accountID).map { AccountIdentity(id: $0.id, canonicalID: $0.canonicalID) }
    }

    func account(canonicalID: String) -> Account? {
        state.withLock { snapshot in snapshot.byCanonicalID[canonicalID].flatMap { snapshot.accounts[$0] } }
    }

    func account(email: String) -> Account? {
        state.withLock { $0.accounts.values.first { $0.email?.lowercased() == email.lowercased() } }
    }

    func isOperator(_ caller: Caller) -> Bool {
        guard case .root(let identity) = caller else { return false }
        return account(id: identity.id)?.isOperator ?? false
    }

    /// Reads the identity tables again. A load that started before another finished never replaces it.
    public func reload() async throws {
        let generation = loads.add(1, ordering: .sequentiallyConsistent).newValue
        var snapshot = Snapshot(generation: generation)
        for account in try await index.accounts() {
            snapshot.accounts[account.id] = account
            snapshot.byCanonicalID[account.canonicalID] = account.id
            for key in try await index.accessKeys(accountID: account.id, userName: nil) { add(key, to: &snapshot) }
            for user in try await index.users(accountID: account.id) {
                let userKey = Self.userKey(account.id, user.name)
                snapshot.users[userKey] = user
                for key in try await index.accessKeys(accountID: account.id, userName: user.name) { add(key, to: &snapshot) }
                // Stored policies were validated when put; one that no longer parses grants nothing.
                snapshot.policies[userKey] = try await index.userPolicies(accountID: account.id, userName: user.name)
                    .compactMap { try? PolicyDocument.parse(Array($0.document.utf8), kind: .identity) }
            }
        }
        state.withLock { current in
            if snapshot.generation > current.generation { current = snapshot }
        }
    }

    private func add(_ key: AccessKey, to snapshot: inout Snapshot) {
        guard let secret = masterKey.open(key.sealedSecret, accessKeyID: key.id) else { return }
        snapshot.keys[key.id] = KeyEntry(secret: secret, accountID: key.accountID, userName: key.userName, isActive: key.isActive)
    }

    // MARK: Changes

    /// Makes the start-up credentials the operator's root key, creating the operator's account on first start.
    public func bootstrapOperator(accessKey: String, secretKey: String) async throws -> Account {
        let account = Self.newAccount(name: "martlet", displayName: "martlet", email: nil)
        let key = AccessKey(
            id: accessKey, accountID: account.id, userName: nil,
            sealedSecret: masterKey.seal(secret: secretKey, accessKeyID: accessKey), createdAt: Date())
        let result = try await index.bootstrapOperator(account, rootKey: key)
        try await reload()
        return result
    }

    /// A new key pair, generated unless given.
    public struct NewKey: Sendable {
        public var accessKeyID: String
        public var secretKey: String
        public var createdAt: Date
    }

    public func addAccount(
        name: String, displayName: String?, email: String?, accessKey: String?, secretKey: String?
    ) async throws -> (Account, NewKey) {
        let account = Self.newAccount(name: name, displayName: displayName ?? name, email: email)
        let pair = NewKey(
            accessKeyID: accessKey ?? Self.randomString(16, Self.keyAlphabet, prefix: "AKIA"),
            secretKey: secretKey ?? Self.randomString(40, Self.secretAlphabet), createdAt: Date())
        let key = AccessKey(
            id: pair.accessKeyID, accountID: account.id, userName: nil,
            sealedSecret: masterKey.seal(secret: pair.secretKey, accessKeyID: pair.accessKeyID), createdAt: pair.createdAt)
        try await index.createAccount(account, rootKey: key)
        try await reload()
        return (account, pair)
    }

    public func accounts() async throws -> [Account] { try await index.accounts() }

    public func account(named name: String) async throws -> Account? { try await index.account(named: name) }

    public func setAccountDisabled(_ disabled: Bool, name: String) async throws {
        try await index.setAccountDisabled(disabled, name: name)
        try await reload()
    }

    public func removeAccount(name: String) async throws {
        try await index.deleteAccount(named: name)
        try await reload()
    }

    public func rootKeys(accountID: String) async throws -> [AccessKey] {
        try await index.accessKeys(accountID: accountID, userName: nil)
    }

    func createUser(accountID: String, name: String, path: String) async throws -> IAMUser {
        let user = IAMUser(
            accountID: accountID, name: name, userID: Self.randomString(17, Self.keyAlphabet, prefix: "AIDA"), path: path,
            createdAt: Date())
        try await index.createUser(user)
        try await reload()
        return user
    }

    func deleteUser(accountID: String, name: String) async throws {
        try await index.deleteUser(accountID: accountID, name: name)
        try await reload()
    }

    func createAccessKey(accountID: String, userName: String?) async throws -> NewKey {
        let pair = NewKey(
            accessKeyID: Self.randomString(16, Self.keyAlphabet, prefix: "AKIA"), secretKey: Self.randomString(40, Self.secretAlphabet),
            createdAt: Date())
        try await index.createAccessKey(AccessKey(
            id: pair.accessKeyID, accountID: accountID, userName: userName,
            sealedSecret: masterKey.seal(secret: pair.secretKey, accessKeyID: pair.accessKeyID), createdAt: pair.createdAt))
        try await reload()
        return pair
    }

    /// Adds a key with a given id and secret (declared in a configuration file).
    func addAccessKey(id: String, secret: String, accountID: String, userName: String?) async throws {
        try await index.createAccessKey(AccessKey(
            id: id, accountID: accountID, userName: userName,
            sealedSecret: masterKey.seal(secret: secret, accessKeyID: id), createdAt: Date()))
        try await reload()
    }

    /// Gives an existing key a new secret, unless it already has that one.
    func setSecret(_ secret: String, accessKeyID id: String) async throws {
        let current = state.withLock { $0.keys[id]?.secret }
        if current == secret { return }
        try await index.resealAccessKeySecrets([id: masterKey.seal(secret: secret, accessKeyID: id)])
        try await reload()
    }

    func setAccessKeyActive(_ active: Bool, id: String, accountID: String, userName: String?) async throws {
        try await index.setAccessKeyActive(active, id: id, accountID: accountID, userName: userName)
        try await reload()
    }

    func deleteAccessKey(id: String, accountID: String, userName: String?) async throws {
        try await index.deleteAccessKey(id: id, accountID: accountID, userName: userName)
        try await reload()
    }

    func putUserPolicy(accountID: String, userName: String, policyName: String, document: String) async throws {
        try await index.putUserPolicy(accountID: accountID, userName: userName, policyName: policyName, document: document)
        try await reload()
    }

    func deleteUserPolicy(accountID: String, userName: String, policyName: String) async throws {
        try await index.deleteUserPolicy(accountID: accountID, userName: userName, policyName: policyName)
        try await reload()
    }

    // MARK: Identifiers

    static let keyAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    static let secretAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")

    static func randomString(_ length: Int, _ alphabet: [Character], prefix: String = "") -> String {
        var generator = SystemRandomNumberGenerator()
        return prefix + String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
    }

    static func newAccount(name: String, displayName: String, email: String?) -> Account {
        var generator = SystemRandomNumberGenerator()
        let id = String(UInt64.random(in: 100_000_000_000...999_999_999_999, using: &generator))
        let canonical = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        return Account(id: id, canonicalID: canonical, name: name, displayName: displayName, email: email, createdAt: Date())
    }
}
