import Foundation
import ObjectStore
import S3Auth

/// Accounts, users, keys and identity policies, as every request needs them: secrets unsealed, policies parsed.
///
/// Each change is applied in place and touches only the entries it names, so its cost does not depend on how many
/// users the server holds. Loading from the index goes through the same changes, so a snapshot built change by
/// change equals one loaded afresh from the same rows (the directory's tests compare the two).
struct IdentitySnapshot: Equatable {
    struct KeyEntry: Equatable {
        var secret: String
        var accountID: String
        /// Nil for the account's root.
        var userName: String?
        var isActive: Bool
    }

    struct StoredPolicy: Equatable {
        var document: PolicyDocument
        /// Characters other than whitespace, as IAM counts a user's aggregate policy size.
        var size: Int
    }

    struct UserEntry: Equatable {
        var user: IAMUser
        var policies: [String: StoredPolicy] = [:]
        /// The parsed policies by name, kept ready so that a request takes them without sorting or copying.
        var documents: [PolicyDocument] = []
        var keyIDs: Set<String> = []

        mutating func reorderDocuments() {
            documents = policies.sorted { $0.key < $1.key }.map(\.value.document)
        }
    }

    struct AccountEntry: Equatable {
        var account: Account
        var rootKeyIDs: Set<String> = []
        /// By lower-cased name: IAM user names are unique in an account regardless of case.
        var users: [String: UserEntry] = [:]
    }

    private(set) var accounts: [String: AccountEntry] = [:]
    private(set) var accountIDByCanonicalID: [String: String] = [:]
    private(set) var keys: [String: KeyEntry] = [:]

    static func userKey(_ name: String) -> String { name.lowercased() }

    // MARK: Reads

    func user(accountID: String, name: String) -> UserEntry? {
        accounts[accountID]?.users[Self.userKey(name)]
    }

    // MARK: Changes

    /// Adds an account, or replaces its record (name, disabled...) keeping its users and keys.
    mutating func putAccount(_ account: Account) {
        if let previous = accounts[account.id]?.account, previous.canonicalID != account.canonicalID {
            accountIDByCanonicalID[previous.canonicalID] = nil
        }
        accounts[account.id, default: AccountEntry(account: account)].account = account
        accountIDByCanonicalID[account.canonicalID] = account.id
    }

    /// Removes an account with everything in it.
    mutating func removeAccount(id: String) {
        guard let entry = accounts.removeValue(forKey: id) else { return }
        if accountIDByCanonicalID[entry.account.canonicalID] == id { accountIDByCanonicalID[entry.account.canonicalID] = nil }
        for keyID in entry.rootKeyIDs { keys[keyID] = nil }
        for user in entry.users.values {
            for keyID in user.keyIDs { keys[keyID] = nil }
        }
    }

    mutating func putUser(_ user: IAMUser) {
        guard accounts[user.accountID] != nil else { return }
        let key = Self.userKey(user.name)
        if accounts[user.accountID]?.users[key] != nil {
            accounts[user.accountID]?.users[key]?.user = user
        } else {
            accounts[user.accountID]?.users[key] = UserEntry(user: user)
        }
    }

    /// Removes a user with its keys and policies (the index refuses to delete a user that has any; this keeps the
    /// snapshot whole even so).
    mutating func removeUser(accountID: String, name: String) {
        guard let removed = accounts[accountID]?.users.removeValue(forKey: Self.userKey(name)) else { return }
        for keyID in removed.keyIDs { keys[keyID] = nil }
    }

    /// Adds or replaces a key; ignored if its account (or user) is not in the snapshot, as the index would refuse it.
    mutating func putKey(id: String, _ entry: KeyEntry) {
        guard accounts[entry.accountID] != nil else { return }
        if let userName = entry.userName {
            guard accounts[entry.accountID]?.users[Self.userKey(userName)] != nil else { return }
        }
        removeKey(id: id)
        keys[id] = entry
        if let userName = entry.userName {
            accounts[entry.accountID]?.users[Self.userKey(userName)]?.keyIDs.insert(id)
        } else {
            accounts[entry.accountID]?.rootKeyIDs.insert(id)
        }
    }

    mutating func removeKey(id: String) {
        guard let entry = keys.removeValue(forKey: id) else { return }
        if let userName = entry.userName {
            accounts[entry.accountID]?.users[Self.userKey(userName)]?.keyIDs.remove(id)
        } else {
            accounts[entry.accountID]?.rootKeyIDs.remove(id)
        }
    }

    mutating func setKeyActive(_ active: Bool, id: String) {
        keys[id]?.isActive = active
    }

    mutating func setSecret(_ secret: String, id: String) {
        keys[id]?.secret = secret
    }

    mutating func putPolicy(accountID: String, userName: String, name: String, _ policy: StoredPolicy) {
        let key = Self.userKey(userName)
        guard accounts[accountID]?.users[key] != nil else { return }
        accounts[accountID]?.users[key]?.policies[name] = policy
        accounts[accountID]?.users[key]?.reorderDocuments()
    }

    mutating func removePolicy(accountID: String, userName: String, name: String) {
        let key = Self.userKey(userName)
        guard accounts[accountID]?.users[key]?.policies.removeValue(forKey: name) != nil else { return }
        accounts[accountID]?.users[key]?.reorderDocuments()
    }

    // MARK: Loading

    /// Puts the records in, unsealing secrets with `open` and parsing policies. A key whose secret does not open
    /// and a stored policy that no longer parses are left out: they authenticate and grant nothing.
    mutating func load(_ records: IdentityRecords, open: (AccessKey) -> String?) {
        for account in records.accounts { putAccount(account) }
        for user in records.users { putUser(user) }
        for key in records.accessKeys {
            guard let secret = open(key) else { continue }
            putKey(id: key.id, KeyEntry(secret: secret, accountID: key.accountID, userName: key.userName, isActive: key.isActive))
        }
        for policy in records.policies {
            guard let stored = Self.storedPolicy(policy.document) else { continue }
            putPolicy(accountID: policy.accountID, userName: policy.userName, name: policy.name, stored)
        }
    }

    /// Replaces one account's entries with `records` (that account's rows; none if it no longer exists).
    mutating func reload(accountID: String, _ records: IdentityRecords, open: (AccessKey) -> String?) {
        removeAccount(id: accountID)
        load(records, open: open)
    }

    /// A policy the index holds, parsed; nil if it no longer parses (policies are validated when put).
    static func storedPolicy(_ text: String) -> StoredPolicy? {
        let bytes = Array(text.utf8)
        guard let document = try? PolicyDocument.parse(bytes, kind: .identity) else { return nil }
        return StoredPolicy(document: document, size: PolicyDocument.compactSize(bytes))
    }
}
