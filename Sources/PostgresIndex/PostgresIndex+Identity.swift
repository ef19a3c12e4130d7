import Foundation
import NIOCore
import ObjectStore
import PostgresNIO

/// Accounts, IAM users, access keys and inline user policies: tables `accounts`, `iam_users`, `access_keys`
/// (user_name '' for an account's root) and `user_policies`, as ``SQLiteIndex`` keeps them.
///
/// IAM user names are unique in an account regardless of case, as on AWS, and are kept as given: every comparison of
/// a user name is `lower(…) = lower(…)` (the columns are `COLLATE "C"`, so `lower` folds ASCII alone, like SQLite's
/// NOCASE), backed by unique indexes on `lower(name)`. Every check and the write it guards (a name free, a quota not
/// reached) share one SERIALIZABLE transaction, so two nodes cannot both pass it. Those inserts say
/// `ON CONFLICT DO NOTHING`: a row another node committed after this transaction's snapshot then fails it with a
/// serialization failure (40001, so it runs again and its check sees the row), where a plain INSERT reports a unique
/// violation (23505) whenever it trips an index the check did not read through (seen with two spellings of one name).
extension PostgresIndex: IdentityIndex {
    public func createAccount(_ account: Account, rootKey: AccessKey) async throws {
        try await writeSetting { session in
            if try await session.row("SELECT 1 FROM accounts WHERE name = \(account.name)") != nil {
                throw IdentityError.entityAlreadyExists("Account \(account.name) already exists.")
            }
            if try await Self.accessKeyRow(rootKey.id, session) != nil {
                throw IdentityError.entityAlreadyExists("Access key \(rootKey.id) is already in use.")
            }
            try await Self.insert(account, session)
            try await Self.insert(rootKey, session)
        }
    }

    public func account(named name: String) async throws -> Account? {
        try await autocommit { session in
            try await session.row("SELECT * FROM accounts WHERE name = \(name)").map(Self.account)
        }
    }

    public func account(id: String) async throws -> Account? {
        try await autocommit { session in try await Self.accountRow(id: id, session) }
    }

    public func accounts() async throws -> [Account] {
        try await autocommit { session in
            try await session.rows("SELECT * FROM accounts ORDER BY name").map(Self.account)
        }
    }

    public func setAccountDisabled(_ disabled: Bool, name: String) async throws {
        try await writeSetting { session in
            let updated = try await session.rows("UPDATE accounts SET disabled = \(disabled) WHERE name = \(name) RETURNING 1")
            if updated.isEmpty { throw IdentityError.noSuchEntity("The account \(name) cannot be found.") }
        }
    }

    public func deleteAccount(named name: String) async throws {
        try await writeSetting { session in
            guard let account = try await session.row("SELECT * FROM accounts WHERE name = \(name)").map(Self.account) else {
                throw IdentityError.noSuchEntity("The account \(name) cannot be found.")
            }
            if account.isOperator { throw IdentityError.deleteConflict("The operator's account cannot be removed.") }
            let buckets = try await session.value(Int.self, "SELECT COUNT(*) FROM buckets WHERE owner = \(account.id)") ?? 0
            if buckets > 0 {
                throw IdentityError.deleteConflict("The account \(name) still owns \(buckets) bucket(s); delete them first.")
            }
            for table in ["access_keys", "user_policies", "iam_users"] {
                try await session.execute("DELETE FROM \(unescaped: table) WHERE account_id = \(account.id)")
            }
            try await session.execute("DELETE FROM accounts WHERE id = \(account.id)")
        }
    }

    public func bootstrapOperator(_ account: Account, rootKey: AccessKey) async throws -> Account {
        try await write { session in
            let op: Account
            if let existing = try await session.row("SELECT * FROM accounts WHERE is_operator").map(Self.account) {
                op = existing
            } else {
                var created = account
                created.isOperator = true
                try await Self.insert(created, session)
                op = created
            }
            if let holder = try await Self.accessKeyRow(rootKey.id, session), holder.accountID != op.id || holder.userName != nil {
                throw IdentityError.entityAlreadyExists("Access key \(rootKey.id) belongs to another identity.")
            }
            try await session.execute("DELETE FROM access_keys WHERE account_id = \(op.id) AND user_name = ''")
            var key = rootKey
            key.accountID = op.id
            key.userName = nil
            try await Self.insert(key, session)
            try await session.execute("UPDATE buckets SET owner = \(op.id) WHERE owner IS NULL")
            return op
        }
    }

    public func identityRecords(accountID: String?) async throws -> IdentityRecords {
        try await read { session in
            // One snapshot: the four tables as of the same commit.
            func rows(_ table: String, ownedBy column: String, orderedBy order: String) async throws -> [PostgresRandomAccessRow] {
                guard let accountID else {
                    return try await session.rows("SELECT * FROM \(unescaped: table) ORDER BY \(unescaped: order)")
                }
                return try await session.rows(
                    "SELECT * FROM \(unescaped: table) WHERE \(unescaped: column) = \(accountID) ORDER BY \(unescaped: order)")
            }
            return IdentityRecords(
                accounts: try await rows("accounts", ownedBy: "id", orderedBy: "id").map(Self.account),
                users: try await rows("iam_users", ownedBy: "account_id", orderedBy: "account_id, lower(name)").map(Self.user),
                accessKeys: try await rows("access_keys", ownedBy: "account_id", orderedBy: "id").map(Self.accessKey),
                policies: try await rows(
                    "user_policies", ownedBy: "account_id", orderedBy: "account_id, lower(user_name), policy_name"
                ).map { row in
                    UserPolicy(
                        accountID: try row["account_id"].decode(String.self), userName: try row["user_name"].decode(String.self),
                        name: try row["policy_name"].decode(String.self), document: try row["document"].decode(String.self))
                })
        }
    }

    // MARK: Users

    public func createUser(_ user: IAMUser, maxUsersInAccount: Int) async throws {
        let createdAt = IndexColumns.milliseconds(user.createdAt)
        try await writeSetting { session in
            guard try await Self.accountRow(id: user.accountID, session) != nil else {
                throw IdentityError.noSuchEntity("The account \(user.accountID) cannot be found.")
            }
            if try await Self.userRow(user.accountID, user.name, session) != nil {
                throw IdentityError.entityAlreadyExists("User with name \(user.name) already exists.")
            }
            // Counting stops at the quota, so the check costs at most that many index entries, whatever the table holds.
            let users = try await session.value(Int.self, """
                SELECT COUNT(*) FROM (SELECT 1 FROM iam_users WHERE account_id = \(user.accountID) LIMIT \(max(maxUsersInAccount, 0))) AS capped
                """) ?? 0
            if users >= maxUsersInAccount {
                throw IdentityError.limitExceeded("Cannot exceed quota for UsersPerAccount: \(maxUsersInAccount)")
            }
            let inserted = try await session.rows("""
                INSERT INTO iam_users (account_id, name, user_id, path, created_at)
                VALUES (\(user.accountID), \(user.name), \(user.userID), \(user.path), \(createdAt))
                ON CONFLICT DO NOTHING RETURNING 1
                """)
            // Only a user ID already taken gets here (the name was checked above).
            if inserted.isEmpty { throw IdentityError.entityAlreadyExists("User with ID \(user.userID) already exists.") }
        }
    }

    public func user(accountID: String, name: String) async throws -> IAMUser? {
        try await autocommit { session in try await Self.userRow(accountID, name, session) }
    }

    public func users(accountID: String) async throws -> [IAMUser] {
        try await autocommit { session in
            try await session.rows("SELECT * FROM iam_users WHERE account_id = \(accountID) ORDER BY lower(name)").map(Self.user)
        }
    }

    public func deleteUser(accountID: String, name: String) async throws {
        try await writeSetting { session in
            try await Self.requireUser(accountID, name, session)
            let keys = try await session.value(Int.self, """
                SELECT COUNT(*) FROM access_keys WHERE account_id = \(accountID) AND lower(user_name) = \(folded: name)
                """) ?? 0
            let policies = try await session.value(Int.self, """
                SELECT COUNT(*) FROM user_policies WHERE account_id = \(accountID) AND lower(user_name) = \(folded: name)
                """) ?? 0
            if keys > 0 || policies > 0 {
                throw IdentityError.deleteConflict("Cannot delete entity, must delete \(keys > 0 ? "access keys" : "policies") first.")
            }
            try await session.execute("DELETE FROM iam_users WHERE account_id = \(accountID) AND lower(name) = \(folded: name)")
        }
    }

    // MARK: Access keys

    public func createAccessKey(_ key: AccessKey) async throws {
        try await writeSetting { session in
            if let userName = key.userName { try await Self.requireUser(key.accountID, userName, session) }
            // Two keys for a user, and two for an account's root, as on AWS: enough to rotate, never a way to fill
            // the server.
            let count = try await session.value(Int.self, """
                SELECT COUNT(*) FROM access_keys WHERE account_id = \(key.accountID) AND lower(user_name) = \(folded: key.userName ?? "")
                """) ?? 0
            if count >= 2 { throw IdentityError.limitExceeded("Cannot exceed quota for AccessKeysPerUser: 2") }
            if try await Self.accessKeyRow(key.id, session) != nil {
                throw IdentityError.entityAlreadyExists("Access key \(key.id) is already in use.")
            }
            try await Self.insert(key, session)
        }
    }

    public func accessKey(id: String) async throws -> AccessKey? {
        try await autocommit { session in try await Self.accessKeyRow(id, session) }
    }

    public func accessKeys(accountID: String, userName: String?) async throws -> [AccessKey] {
        try await autocommit { session in
            try await session.rows("""
                SELECT * FROM access_keys WHERE account_id = \(accountID) AND lower(user_name) = \(folded: userName ?? "")
                ORDER BY created_at, id
                """).map(Self.accessKey)
        }
    }

    public func allAccessKeys() async throws -> [AccessKey] {
        try await autocommit { session in try await session.rows("SELECT * FROM access_keys ORDER BY id").map(Self.accessKey) }
    }

    public func resealAccessKeySecrets(_ sealed: [String: [UInt8]]) async throws {
        try await writeSetting { session in
            for (id, secret) in sealed {
                try await session.execute("UPDATE access_keys SET sealed_secret = \(ByteBuffer(bytes: secret)) WHERE id = \(id)")
            }
        }
    }

    public func setAccessKeyActive(_ active: Bool, id: String, accountID: String, userName: String?) async throws {
        try await writeSetting { session in
            let updated = try await session.rows("""
                UPDATE access_keys SET active = \(active)
                WHERE id = \(id) AND account_id = \(accountID) AND lower(user_name) = \(folded: userName ?? "") RETURNING 1
                """)
            if updated.isEmpty { throw IdentityError.noSuchEntity("The Access Key with id \(id) cannot be found.") }
        }
    }

    public func deleteAccessKey(id: String, accountID: String, userName: String?) async throws {
        try await writeSetting { session in
            let deleted = try await session.rows("""
                DELETE FROM access_keys
                WHERE id = \(id) AND account_id = \(accountID) AND lower(user_name) = \(folded: userName ?? "") RETURNING 1
                """)
            if deleted.isEmpty { throw IdentityError.noSuchEntity("The Access Key with id \(id) cannot be found.") }
        }
    }

    // MARK: User policies

    public func putUserPolicy(accountID: String, userName: String, policyName: String, document: String) async throws {
        try await writeSetting { session in
            try await Self.requireUser(accountID, userName, session)
            try await session.execute("""
                INSERT INTO user_policies (account_id, user_name, policy_name, document)
                VALUES (\(accountID), \(userName), \(policyName), \(document))
                ON CONFLICT (account_id, lower(user_name), policy_name) DO UPDATE SET document = excluded.document
                """)
        }
    }

    public func userPolicies(accountID: String, userName: String) async throws -> [(name: String, document: String)] {
        try await autocommit { session in
            try await session.rows("""
                SELECT policy_name, document FROM user_policies
                WHERE account_id = \(accountID) AND lower(user_name) = \(folded: userName) ORDER BY policy_name
                """).map { (name: try $0["policy_name"].decode(String.self), document: try $0["document"].decode(String.self)) }
        }
    }

    public func deleteUserPolicy(accountID: String, userName: String, policyName: String) async throws {
        try await writeSetting { session in
            try await Self.requireUser(accountID, userName, session)
            let deleted = try await session.rows("""
                DELETE FROM user_policies
                WHERE account_id = \(accountID) AND lower(user_name) = \(folded: userName) AND policy_name = \(policyName) RETURNING 1
                """)
            if deleted.isEmpty { throw IdentityError.noSuchEntity("The user policy with name \(policyName) cannot be found.") }
        }
    }

    // MARK: Rows

    private static func accountRow(id: String, _ session: Session) async throws -> Account? {
        try await session.row("SELECT * FROM accounts WHERE id = \(id)").map(account)
    }

    private static func account(_ row: PostgresRandomAccessRow) throws -> Account {
        Account(
            id: try row["id"].decode(String.self), canonicalID: try row["canonical_id"].decode(String.self),
            name: try row["name"].decode(String.self), displayName: try row["display_name"].decode(String.self),
            email: try row["email"].decode(String?.self),
            createdAt: IndexColumns.date(milliseconds: try row["created_at"].decode(Int64.self)),
            isDisabled: try row["disabled"].decode(Bool.self), isOperator: try row["is_operator"].decode(Bool.self))
    }

    /// Throws ``IdentityError/entityAlreadyExists(_:)`` if an account has its id, canonical id or name.
    private static func insert(_ account: Account, _ session: Session) async throws {
        let inserted = try await session.rows("""
            INSERT INTO accounts (id, canonical_id, name, display_name, email, created_at, disabled, is_operator)
            VALUES (\(account.id), \(account.canonicalID), \(account.name), \(account.displayName), \(account.email),
                    \(IndexColumns.milliseconds(account.createdAt)), \(account.isDisabled), \(account.isOperator))
            ON CONFLICT DO NOTHING RETURNING 1
            """)
        if inserted.isEmpty { throw IdentityError.entityAlreadyExists("Account \(account.name) or its ID already exists.") }
    }

    private static func userRow(_ accountID: String, _ name: String, _ session: Session) async throws -> IAMUser? {
        try await session.row("SELECT * FROM iam_users WHERE account_id = \(accountID) AND lower(name) = \(folded: name)").map(user)
    }

    private static func requireUser(_ accountID: String, _ name: String, _ session: Session) async throws {
        if try await userRow(accountID, name, session) == nil {
            throw IdentityError.noSuchEntity("The user with name \(name) cannot be found.")
        }
    }

    private static func user(_ row: PostgresRandomAccessRow) throws -> IAMUser {
        IAMUser(
            accountID: try row["account_id"].decode(String.self), name: try row["name"].decode(String.self),
            userID: try row["user_id"].decode(String.self), path: try row["path"].decode(String.self),
            createdAt: IndexColumns.date(milliseconds: try row["created_at"].decode(Int64.self)))
    }

    private static func accessKeyRow(_ id: String, _ session: Session) async throws -> AccessKey? {
        try await session.row("SELECT * FROM access_keys WHERE id = \(id)").map(accessKey)
    }

    private static func accessKey(_ row: PostgresRandomAccessRow) throws -> AccessKey {
        let userName = try row["user_name"].decode(String.self)
        return AccessKey(
            id: try row["id"].decode(String.self), accountID: try row["account_id"].decode(String.self),
            userName: userName.isEmpty ? nil : userName,
            sealedSecret: Array(try row["sealed_secret"].decode(ByteBuffer.self).readableBytesView),
            isActive: try row["active"].decode(Bool.self),
            createdAt: IndexColumns.date(milliseconds: try row["created_at"].decode(Int64.self)))
    }

    /// Throws ``IdentityError/entityAlreadyExists(_:)`` if the key's id is taken.
    private static func insert(_ key: AccessKey, _ session: Session) async throws {
        let inserted = try await session.rows("""
            INSERT INTO access_keys (id, account_id, user_name, sealed_secret, active, created_at)
            VALUES (\(key.id), \(key.accountID), \(key.userName ?? ""), \(ByteBuffer(bytes: key.sealedSecret)), \(key.isActive),
                    \(IndexColumns.milliseconds(key.createdAt)))
            ON CONFLICT DO NOTHING RETURNING 1
            """)
        if inserted.isEmpty { throw IdentityError.entityAlreadyExists("Access key \(key.id) is already in use.") }
    }
}

extension PostgresQuery.StringInterpolation {
    /// A user name as the index compares it, `lower` of it under `COLLATE "C"`: ASCII letters folded and nothing else,
    /// as the `lower(…)` of the `COLLATE "C"` columns it meets (and SQLite's NOCASE) fold them, whatever the
    /// database's own collation.
    mutating func appendInterpolation(folded name: String) {
        appendLiteral("lower(")
        appendInterpolation(name)
        appendLiteral(" COLLATE \"C\")")
    }
}
