import Foundation
import ObjectStore
import S3Auth
import Synchronization

/// AWS's IAM quotas that keep one account from filling the server.
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
public struct IdentityQuotas: Sendable {
    /// IAM users in one account: 5,000 on AWS.
    public var usersPerAccount: Int
    /// The aggregate size of one user's inline policies, in characters other than whitespace: 2,048 on AWS.
    public var userPolicyCharacters: Int

    public init(usersPerAccount: Int = 5_000, userPolicyCharacters: Int = 2_048) {
        self.usersPerAccount = usersPerAccount
        self.userPolicyCharacters = userPolicyCharacters
    }
}

/// Accounts, users, keys and identity policies, as every request needs them: an in-memory snapshot of the
/// identity tables (``IdentitySnapshot``). Every change goes to the index first and then, once committed, is
/// applied to the snapshot alone, in time that does not depend on how many users the server holds; changes run
/// one at a time so the snapshot sees them in the order the index committed them. A disabled account or a
/// deleted key is refused from the next request on.
public final class IdentityDirectory: CredentialStore, Sendable {
    let index: any IdentityIndex
    let masterKey: MasterKey
    public let quotas: IdentityQuotas
    let state = Mutex(State())
    let changes = SerialChanges()

    struct State {
        var snapshot = IdentitySnapshot()
        /// Accounts whose entries were dropped because a change's outcome was unknown and the index could not be
        /// read again; read at the start of the next change.
        var stale: Set<String> = []
    }

    public init(index: any IdentityIndex, masterKey: MasterKey, quotas: IdentityQuotas = IdentityQuotas()) {
        self.index = index
        self.masterKey = masterKey
        self.quotas = quotas
    }

    // MARK: Reads, from the snapshot

    public func credential(forAccessKey accessKey: String) -> CredentialLookup {
        state.withLock { state in
            guard let entry = state.snapshot.keys[accessKey], entry.isActive,
                let account = state.snapshot.accounts[entry.accountID]?.account
            else {
                return .unknown
            }
            if account.isDisabled { return .accountDisabled }
            let identity = AccountIdentity(id: account.id, canonicalID: account.canonicalID)
            guard let userName = entry.userName else { return .valid(Credential(secretKey: entry.secret, caller: .root(identity))) }
            guard let user = state.snapshot.user(accountID: account.id, name: userName)?.user else { return .unknown }
            return .valid(Credential(secretKey: entry.secret, caller: .user(identity, name: user.name, userID: user.userID)))
        }
    }

    /// The inline policies of an IAM user; none for a root or anonymous caller.
    func identityPolicies(_ caller: Caller) -> [PolicyDocument] {
        guard case .user(let account, let name, _) = caller else { return [] }
        return state.withLock { $0.snapshot.user(accountID: account.id, name: name)?.documents ?? [] }
    }

    func account(id: String) -> Account? {
        state.withLock { $0.snapshot.accounts[id]?.account }
    }

    /// The account id's identity for policies and ACLs.
    func identity(accountID: String) -> AccountIdentity? {
        account(id: accountID).map { AccountIdentity(id: $0.id, canonicalID: $0.canonicalID) }
    }

    func account(canonicalID: String) -> Account? {
        state.withLock { state in
            state.snapshot.accountIDByCanonicalID[canonicalID].flatMap { state.snapshot.accounts[$0]?.account }
        }
    }

    func account(email: String) -> Account? {
        let wanted = email.lowercased()
        return state.withLock { $0.snapshot.accounts.values.first { $0.account.email?.lowercased() == wanted }?.account }
    }

    func isOperator(_ caller: Caller) -> Bool {
        guard case .root(let identity) = caller else { return false }
        return account(id: identity.id)?.isOperator ?? false
    }

    /// A copy of the snapshot, for tests that compare it with one loaded afresh.
    var currentSnapshot: IdentitySnapshot { state.withLock { $0.snapshot } }

    // MARK: Loading

    /// Reads every identity table again and replaces the snapshot: at start-up, and after a change whose
    /// outcome is unknown.
    public func reload() async throws {
        try await changes.run { try await loadAll() }
    }

    /// Reads one account's rows again (another node changed them).
    public func reload(accountID: String) async throws {
        try await changes.run { try await loadAccount(accountID) }
    }

    /// Reads everything into a new snapshot; only inside a change.
    func loadAll() async throws {
        let records = try await index.identityRecords(accountID: nil)
        var snapshot = IdentitySnapshot()
        snapshot.load(records, open: open)
        state.withLock { state in
            state.snapshot = snapshot
            state.stale = []
        }
    }

    /// Reads one account's rows again and puts them in place of its entries; only inside a change.
    func loadAccount(_ accountID: String) async throws {
        let records = try await index.identityRecords(accountID: accountID)
        state.withLock { state in
            state.snapshot.reload(accountID: accountID, records, open: open)
            state.stale.remove(accountID)
        }
    }

    func open(_ key: AccessKey) -> String? {
        masterKey.open(key.sealedSecret, accessKeyID: key.id)
    }

    // MARK: Identifiers

    /// Now, to the millisecond the index keeps, so that what the snapshot holds equals what a reload would read.
    static func now() -> Date {
        Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded() / 1000)
    }

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
        return Account(id: id, canonicalID: canonical, name: name, displayName: displayName, email: email, createdAt: Self.now())
    }
}
