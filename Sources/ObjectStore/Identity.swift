import Foundation

/// An account, as on AWS: it owns buckets, has root keys, and holds IAM users.
public struct Account: Sendable, Equatable, Codable {
    /// Twelve digits.
    public var id: String
    /// 64 hex digits, the id ACLs and listings show.
    public var canonicalID: String
    /// The name the operator manages it by (unique).
    public var name: String
    public var displayName: String
    public var email: String?
    public var createdAt: Date
    public var isDisabled: Bool
    /// The first account, whose root may manage the others.
    public var isOperator: Bool

    public init(
        id: String, canonicalID: String, name: String, displayName: String, email: String?, createdAt: Date,
        isDisabled: Bool = false, isOperator: Bool = false
    ) {
        self.id = id
        self.canonicalID = canonicalID
        self.name = name
        self.displayName = displayName
        self.email = email
        self.createdAt = createdAt
        self.isDisabled = isDisabled
        self.isOperator = isOperator
    }
}

/// An IAM user inside an account.
public struct IAMUser: Sendable, Equatable {
    public var accountID: String
    public var name: String
    /// `AIDA...`, stable for the user's life.
    public var userID: String
    public var path: String
    public var createdAt: Date

    public init(accountID: String, name: String, userID: String, path: String, createdAt: Date) {
        self.accountID = accountID
        self.name = name
        self.userID = userID
        self.path = path
        self.createdAt = createdAt
    }

    public var arn: String { "arn:aws:iam::\(accountID):user\(path)\(name)" }
}

/// An access key: an account's root key (`userName` nil) or an IAM user's. The secret is stored sealed.
public struct AccessKey: Sendable, Equatable {
    public var id: String
    public var accountID: String
    public var userName: String?
    /// The secret, encrypted under the server's key; never stored or returned in clear after creation.
    public var sealedSecret: [UInt8]
    public var isActive: Bool
    public var createdAt: Date

    public init(id: String, accountID: String, userName: String?, sealedSecret: [UInt8], isActive: Bool = true, createdAt: Date) {
        self.id = id
        self.accountID = accountID
        self.userName = userName
        self.sealedSecret = sealedSecret
        self.isActive = isActive
        self.createdAt = createdAt
    }
}

/// Why an identity change was refused.
public enum IdentityError: Error, Sendable, Equatable {
    /// The account, user, key or policy does not exist (IAM's NoSuchEntity).
    case noSuchEntity(String)
    /// An account or user of that name exists (IAM's EntityAlreadyExists).
    case entityAlreadyExists(String)
    /// The entity still has things attached (IAM's DeleteConflict): buckets, keys or policies.
    case deleteConflict(String)
    /// Over a quota (users per account, two access keys per user or root, a user's policy size), as on AWS.
    case limitExceeded(String)
}

/// A user's inline policy as stored: its name and JSON text.
public struct UserPolicy: Sendable, Equatable {
    public var accountID: String
    public var userName: String
    public var name: String
    public var document: String

    public init(accountID: String, userName: String, name: String, document: String) {
        self.accountID = accountID
        self.userName = userName
        self.name = name
        self.document = document
    }
}

/// The identity tables' rows, of every account or of one, read together from one snapshot of the index.
public struct IdentityRecords: Sendable, Equatable {
    public var accounts: [Account] = []
    public var users: [IAMUser] = []
    public var accessKeys: [AccessKey] = []
    public var policies: [UserPolicy] = []

    public init(accounts: [Account] = [], users: [IAMUser] = [], accessKeys: [AccessKey] = [], policies: [UserPolicy] = []) {
        self.accounts = accounts
        self.users = users
        self.accessKeys = accessKeys
        self.policies = policies
    }
}

/// Accounts, IAM users, access keys and users' inline policies.
///
/// Implementations must make every method atomic and safe to call concurrently.
public protocol IdentityIndex: Sendable {
    /// Creates an account with its root key. Throws ``IdentityError/entityAlreadyExists(_:)``.
    func createAccount(_ account: Account, rootKey: AccessKey) async throws
    func account(named name: String) async throws -> Account?
    func account(id: String) async throws -> Account?
    /// All accounts, by name.
    func accounts() async throws -> [Account]
    /// Throws ``IdentityError/noSuchEntity(_:)``.
    func setAccountDisabled(_ disabled: Bool, name: String) async throws
    /// Removes an account with its users, keys and policies. Throws ``IdentityError/noSuchEntity(_:)``, or
    /// ``IdentityError/deleteConflict(_:)`` while it owns buckets or is the operator.
    func deleteAccount(named name: String) async throws
    /// Makes `key` the operator's only root key, creating the operator account first if there is none, and gives
    /// buckets without an owner to the operator. Returns the operator.
    func bootstrapOperator(_ account: Account, rootKey: AccessKey) async throws -> Account

    /// Every account's rows (`accountID` nil), or one account's (none if it does not exist), from one read.
    func identityRecords(accountID: String?) async throws -> IdentityRecords

    /// Throws ``IdentityError/entityAlreadyExists(_:)``, ``IdentityError/noSuchEntity(_:)`` for a missing account,
    /// or ``IdentityError/limitExceeded(_:)`` when the account already has `maxUsersInAccount` users.
    func createUser(_ user: IAMUser, maxUsersInAccount: Int) async throws
    func user(accountID: String, name: String) async throws -> IAMUser?
    /// An account's users, by name.
    func users(accountID: String) async throws -> [IAMUser]
    /// Throws ``IdentityError/noSuchEntity(_:)``, or ``IdentityError/deleteConflict(_:)`` while the user has keys
    /// or policies (as IAM requires).
    func deleteUser(accountID: String, name: String) async throws

    /// Adds a key to a user or an account's root (at most two each, as on AWS). Throws ``IdentityError``.
    func createAccessKey(_ key: AccessKey) async throws
    func accessKey(id: String) async throws -> AccessKey?
    /// The keys of a user, or of an account's root when `userName` is nil, oldest first.
    func accessKeys(accountID: String, userName: String?) async throws -> [AccessKey]
    /// Throws ``IdentityError/noSuchEntity(_:)`` unless the key belongs to that user (or root).
    func setAccessKeyActive(_ active: Bool, id: String, accountID: String, userName: String?) async throws
    func deleteAccessKey(id: String, accountID: String, userName: String?) async throws
    /// Every key, roots' and users' alike (a master key rotation re-seals them all).
    func allAccessKeys() async throws -> [AccessKey]
    /// Replaces keys' sealed secrets at once, by key id (a master key rotation).
    func resealAccessKeySecrets(_ sealed: [String: [UInt8]]) async throws

    /// Creates or replaces a user's inline policy. Throws ``IdentityError/noSuchEntity(_:)`` for a missing user.
    func putUserPolicy(accountID: String, userName: String, policyName: String, document: String) async throws
    /// The user's inline policies (name and JSON text), by name.
    func userPolicies(accountID: String, userName: String) async throws -> [(name: String, document: String)]
    func deleteUserPolicy(accountID: String, userName: String, policyName: String) async throws
}
