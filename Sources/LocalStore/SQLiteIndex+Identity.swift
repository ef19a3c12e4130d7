import Foundation
import GRDB
import ObjectStore

/// Accounts, IAM users, access keys and inline user policies: tables `accounts`, `iam_users`, `access_keys`
/// (user_name '' for an account's root) and `user_policies`.
extension SQLiteIndex: IdentityIndex {
    public func createAccount(_ account: Account, rootKey: AccessKey) async throws {
        try await write { db in
            if try Self.accountRow(db, "name = ?", account.name) != nil {
                throw IdentityError.entityAlreadyExists("Account \(account.name) already exists.")
            }
            if try Self.accessKeyRow(rootKey.id, db) != nil {
                throw IdentityError.entityAlreadyExists("Access key \(rootKey.id) is already in use.")
            }
            try Self.insert(account, db)
            try Self.insert(rootKey, db)
        }
    }

    public func account(named name: String) async throws -> Account? {
        try await read { db in try Self.accountRow(db, "name = ?", name) }
    }

    public func account(id: String) async throws -> Account? {
        try await read { db in try Self.accountRow(db, "id = ?", id) }
    }

    public func accounts() async throws -> [Account] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM accounts ORDER BY name").map(Self.account)
        }
    }

    public func setAccountDisabled(_ disabled: Bool, name: String) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE accounts SET disabled = ? WHERE name = ?", arguments: [disabled, name])
            if db.changesCount == 0 { throw IdentityError.noSuchEntity("The account \(name) cannot be found.") }
        }
    }

    public func deleteAccount(named name: String) async throws {
        try await write { db in
            guard let account = try Self.accountRow(db, "name = ?", name) else {
                throw IdentityError.noSuchEntity("The account \(name) cannot be found.")
            }
            if account.isOperator { throw IdentityError.deleteConflict("The operator's account cannot be removed.") }
            let buckets = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM buckets WHERE owner = ?", arguments: [account.id]) ?? 0
            if buckets > 0 {
                throw IdentityError.deleteConflict("The account \(name) still owns \(buckets) bucket(s); delete them first.")
            }
            for table in ["access_keys", "user_policies", "iam_users"] {
                try db.execute(sql: "DELETE FROM \(table) WHERE account_id = ?", arguments: [account.id])
            }
            try db.execute(sql: "DELETE FROM accounts WHERE id = ?", arguments: [account.id])
        }
    }

    public func bootstrapOperator(_ account: Account, rootKey: AccessKey) async throws -> Account {
        try await write { db in
            var operatorAccount = try Self.accountRow(db, "is_operator = 1")
            if operatorAccount == nil {
                var created = account
                created.isOperator = true
                try Self.insert(created, db)
                operatorAccount = created
            }
            let op = operatorAccount!
            if let holder = try Self.accessKeyRow(rootKey.id, db), holder.accountID != op.id || holder.userName != nil {
                throw IdentityError.entityAlreadyExists("Access key \(rootKey.id) belongs to another identity.")
            }
            try db.execute(sql: "DELETE FROM access_keys WHERE account_id = ? AND user_name = ''", arguments: [op.id])
            var key = rootKey
            key.accountID = op.id
            key.userName = nil
            try Self.insert(key, db)
            try db.execute(sql: "UPDATE buckets SET owner = ? WHERE owner IS NULL", arguments: [op.id])
            return op
        }
    }

    public func identityRecords(accountID: String?) async throws -> IdentityRecords {
        try await read { db in
            // One read transaction: the four tables as of the same commit.
            let (condition, arguments): (String, StatementArguments) =
                accountID.map { ("WHERE account_id = ?", [$0]) } ?? ("", [])
            return IdentityRecords(
                accounts: try Row.fetchAll(
                    db, sql: "SELECT * FROM accounts \(accountID == nil ? "" : "WHERE id = ?") ORDER BY id", arguments: arguments
                ).map(Self.account),
                users: try Row.fetchAll(
                    db, sql: "SELECT * FROM iam_users \(condition) ORDER BY account_id, name", arguments: arguments
                ).map(Self.user),
                accessKeys: try Row.fetchAll(db, sql: "SELECT * FROM access_keys \(condition) ORDER BY id", arguments: arguments)
                    .map(Self.accessKey),
                policies: try Row.fetchAll(
                    db, sql: "SELECT * FROM user_policies \(condition) ORDER BY account_id, user_name, policy_name", arguments: arguments
                ).map { row in
                    UserPolicy(accountID: row["account_id"], userName: row["user_name"], name: row["policy_name"], document: row["document"])
                })
        }
    }

    // MARK: Users

    public func createUser(_ user: IAMUser, maxUsersInAccount: Int) async throws {
        try await write { db in
            guard try Self.accountRow(db, "id = ?", user.accountID) != nil else {
                throw IdentityError.noSuchEntity("The account \(user.accountID) cannot be found.")
            }
            if try Self.userRow(user.accountID, user.name, db) != nil {
                throw IdentityError.entityAlreadyExists("User with name \(user.name) already exists.")
            }
            // Counting stops at the quota, so the check costs at most that many index entries, whatever the table holds.
            let users = try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM (SELECT 1 FROM iam_users WHERE account_id = ? LIMIT ?)",
                arguments: [user.accountID, max(maxUsersInAccount, 0)]) ?? 0
            if users >= maxUsersInAccount {
                throw IdentityError.limitExceeded("Cannot exceed quota for UsersPerAccount: \(maxUsersInAccount)")
            }
            try db.execute(
                sql: "INSERT INTO iam_users (account_id, name, user_id, path, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [user.accountID, user.name, user.userID, user.path, Self.milliseconds(user.createdAt)])
        }
    }

    public func user(accountID: String, name: String) async throws -> IAMUser? {
        try await read { db in try Self.userRow(accountID, name, db) }
    }

    public func users(accountID: String) async throws -> [IAMUser] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM iam_users WHERE account_id = ? ORDER BY name", arguments: [accountID])
                .map(Self.user)
        }
    }

    public func deleteUser(accountID: String, name: String) async throws {
        try await write { db in
            try Self.requireUser(accountID, name, db)
            let keys = try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM access_keys WHERE account_id = ? AND user_name = ?", arguments: [accountID, name]) ?? 0
            let policies = try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM user_policies WHERE account_id = ? AND user_name = ?", arguments: [accountID, name]) ?? 0
            if keys > 0 || policies > 0 {
                throw IdentityError.deleteConflict("Cannot delete entity, must delete \(keys > 0 ? "access keys" : "policies") first.")
            }
            try db.execute(sql: "DELETE FROM iam_users WHERE account_id = ? AND name = ?", arguments: [accountID, name])
        }
    }

    // MARK: Access keys

    public func createAccessKey(_ key: AccessKey) async throws {
        try await write { db in
            if let userName = key.userName { try Self.requireUser(key.accountID, userName, db) }
            // Two keys for a user, and two for an account's root, as on AWS: enough to rotate, never a way to fill
            // the server.
            let count = try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM access_keys WHERE account_id = ? AND user_name = ?",
                arguments: [key.accountID, key.userName ?? ""]) ?? 0
            if count >= 2 { throw IdentityError.limitExceeded("Cannot exceed quota for AccessKeysPerUser: 2") }
            if try Self.accessKeyRow(key.id, db) != nil {
                throw IdentityError.entityAlreadyExists("Access key \(key.id) is already in use.")
            }
            try Self.insert(key, db)
        }
    }

    public func accessKey(id: String) async throws -> AccessKey? {
        try await read { db in try Self.accessKeyRow(id, db) }
    }

    public func accessKeys(accountID: String, userName: String?) async throws -> [AccessKey] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM access_keys WHERE account_id = ? AND user_name = ? ORDER BY created_at, id",
                arguments: [accountID, userName ?? ""]).map(Self.accessKey)
        }
    }

    public func allAccessKeys() async throws -> [AccessKey] {
        try await read { db in try Row.fetchAll(db, sql: "SELECT * FROM access_keys ORDER BY id").map(Self.accessKey) }
    }

    public func resealAccessKeySecrets(_ sealed: [String: [UInt8]]) async throws {
        try await write { db in
            for (id, secret) in sealed {
                try db.execute(sql: "UPDATE access_keys SET sealed_secret = ? WHERE id = ?", arguments: [Data(secret), id])
            }
        }
    }

    public func setAccessKeyActive(_ active: Bool, id: String, accountID: String, userName: String?) async throws {
        try await write { db in
            try db.execute(
                sql: "UPDATE access_keys SET active = ? WHERE id = ? AND account_id = ? AND user_name = ?",
                arguments: [active, id, accountID, userName ?? ""])
            if db.changesCount == 0 { throw IdentityError.noSuchEntity("The Access Key with id \(id) cannot be found.") }
        }
    }

    public func deleteAccessKey(id: String, accountID: String, userName: String?) async throws {
        try await write { db in
            try db.execute(
                sql: "DELETE FROM access_keys WHERE id = ? AND account_id = ? AND user_name = ?",
                arguments: [id, accountID, userName ?? ""])
            if db.changesCount == 0 { throw IdentityError.noSuchEntity("The Access Key with id \(id) cannot be found.") }
        }
    }

    // MARK: User policies

    public func putUserPolicy(accountID: String, userName: String, policyName: String, document: String) async throws {
        try await write { db in
            try Self.requireUser(accountID, userName, db)
            try db.execute(
                sql: """
                    INSERT INTO user_policies (account_id, user_name, policy_name, document) VALUES (?, ?, ?, ?)
                    ON CONFLICT (account_id, user_name, policy_name) DO UPDATE SET document = excluded.document
                    """,
                arguments: [accountID, userName, policyName, document])
        }
    }

    public func userPolicies(accountID: String, userName: String) async throws -> [(name: String, document: String)] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT policy_name, document FROM user_policies WHERE account_id = ? AND user_name = ? ORDER BY policy_name",
                arguments: [accountID, userName]
            ).map { (name: $0["policy_name"] as String, document: $0["document"] as String) }
        }
    }

    public func deleteUserPolicy(accountID: String, userName: String, policyName: String) async throws {
        try await write { db in
            try Self.requireUser(accountID, userName, db)
            try db.execute(
                sql: "DELETE FROM user_policies WHERE account_id = ? AND user_name = ? AND policy_name = ?",
                arguments: [accountID, userName, policyName])
            if db.changesCount == 0 {
                throw IdentityError.noSuchEntity("The user policy with name \(policyName) cannot be found.")
            }
        }
    }

    // MARK: Rows

    private static func accountRow(_ db: Database, _ condition: String, _ arguments: (any DatabaseValueConvertible)...) throws -> Account? {
        try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE \(condition)", arguments: StatementArguments(arguments)).map(account)
    }

    private static func account(_ row: Row) -> Account {
        Account(
            id: row["id"], canonicalID: row["canonical_id"], name: row["name"], displayName: row["display_name"],
            email: row["email"], createdAt: date(milliseconds: row["created_at"]), isDisabled: row["disabled"],
            isOperator: row["is_operator"])
    }

    private static func insert(_ account: Account, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO accounts (id, canonical_id, name, display_name, email, created_at, disabled, is_operator)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                account.id, account.canonicalID, account.name, account.displayName, account.email,
                milliseconds(account.createdAt), account.isDisabled, account.isOperator,
            ])
    }

    private static func userRow(_ accountID: String, _ name: String, _ db: Database) throws -> IAMUser? {
        try Row.fetchOne(db, sql: "SELECT * FROM iam_users WHERE account_id = ? AND name = ?", arguments: [accountID, name])
            .map(user)
    }

    private static func requireUser(_ accountID: String, _ name: String, _ db: Database) throws {
        if try userRow(accountID, name, db) == nil {
            throw IdentityError.noSuchEntity("The user with name \(name) cannot be found.")
        }
    }

    private static func user(_ row: Row) -> IAMUser {
        IAMUser(
            accountID: row["account_id"], name: row["name"], userID: row["user_id"], path: row["path"],
            createdAt: date(milliseconds: row["created_at"]))
    }

    private static func accessKeyRow(_ id: String, _ db: Database) throws -> AccessKey? {
        try Row.fetchOne(db, sql: "SELECT * FROM access_keys WHERE id = ?", arguments: [id]).map(accessKey)
    }

    private static func accessKey(_ row: Row) -> AccessKey {
        let userName: String = row["user_name"]
        return AccessKey(
            id: row["id"], accountID: row["account_id"], userName: userName.isEmpty ? nil : userName,
            sealedSecret: [UInt8](row["sealed_secret"] as Data), isActive: row["active"],
            createdAt: date(milliseconds: row["created_at"]))
    }

    private static func insert(_ key: AccessKey, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO access_keys (id, account_id, user_name, sealed_secret, active, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [key.id, key.accountID, key.userName ?? "", Data(key.sealedSecret), key.isActive, milliseconds(key.createdAt)])
    }
}
