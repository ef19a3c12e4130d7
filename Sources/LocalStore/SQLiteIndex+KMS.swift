import Foundation
import GRDB
import ObjectStore

/// The key service's keys (table `kms_keys`): each belongs to an account, within which its alias is unique.
extension SQLiteIndex: KMSKeyIndex {
    public func createKMSKey(_ key: KMSKey) async throws {
        try await write { db in
            if let alias = key.alias, try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM kms_keys WHERE account_id = ? AND alias = ?)",
                arguments: [key.accountID, alias]) == true {
                throw StoreError.keyAlreadyExists
            }
            try db.execute(
                sql: """
                    INSERT INTO kms_keys (id, account_id, alias, description, created_at, enabled, material, policy)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [key.id, key.accountID, key.alias, key.description, Self.milliseconds(key.created), key.enabled,
                            Data(key.sealedMaterial), key.policy])
        }
    }

    public func kmsKeys() async throws -> [KMSKey] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM kms_keys ORDER BY created_at, id").map(Self.kmsKey)
        }
    }

    public func kmsKey(id: String) async throws -> KMSKey? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM kms_keys WHERE id = ?", arguments: [id]).map(Self.kmsKey)
        }
    }

    public func kmsKey(named name: String, accountID: String) async throws -> KMSKey? {
        let alias = name.hasPrefix("alias/") ? String(name.dropFirst(6)) : name
        return try await read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM kms_keys WHERE account_id = ? AND (id = ? OR alias = ?) LIMIT 1",
                arguments: [accountID, name, alias]
            ).map(Self.kmsKey)
        }
    }

    public func resealKMSKeys(_ materials: [String: [UInt8]]) async throws {
        try await write { db in
            for (id, material) in materials {
                try db.execute(sql: "UPDATE kms_keys SET material = ? WHERE id = ?", arguments: [Data(material), id])
            }
        }
    }

    private static func kmsKey(_ row: Row) -> KMSKey {
        KMSKey(
            id: row["id"], accountID: row["account_id"], alias: row["alias"], description: row["description"],
            created: date(milliseconds: row["created_at"]), enabled: row["enabled"],
            sealedMaterial: [UInt8]((row["material"] as Data?) ?? Data()), policy: row["policy"])
    }

    /// Migration `v14-kms-key-owners`: keys get an owning account and a key policy, and aliases become unique per
    /// account rather than per server (SQLite cannot drop the old UNIQUE, so the table is rebuilt). Keys made before
    /// accounts owned keys were made by the operator (`martlet admin kms create-key`, or the default key made on
    /// first use), so they go to the operator's account with the policy AWS gives such a key.
    static func giveKMSKeysOwners(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE kms_keys_owned (
                id TEXT NOT NULL PRIMARY KEY,
                account_id TEXT NOT NULL,
                alias TEXT,
                description TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                enabled INTEGER NOT NULL,
                material BLOB NOT NULL,
                policy TEXT NOT NULL,
                UNIQUE (account_id, alias)
            ) STRICT;
            """)
        let keys = try Row.fetchAll(db, sql: "SELECT * FROM kms_keys")
        if !keys.isEmpty {
            guard let operatorID = try String.fetchOne(db, sql: "SELECT id FROM accounts WHERE is_operator = 1") else {
                // Keys are only ever made once the operator exists; a folder with keys and no operator is not ours.
                throw StoreError.integrityFailure("the index has KMS keys but no operator account to own them")
            }
            for key in keys {
                let alias: String? = key["alias"]
                try db.execute(
                    sql: """
                        INSERT INTO kms_keys_owned (id, account_id, alias, description, created_at, enabled, material, policy)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [key["id"] as String, operatorID, alias, key["description"] as String, key["created_at"] as Int64,
                                key["enabled"] as Bool, key["material"] as Data,
                                KMSKeyPolicy.initialPolicy(alias: alias, accountID: operatorID)])
            }
        }
        try db.execute(sql: "DROP TABLE kms_keys; ALTER TABLE kms_keys_owned RENAME TO kms_keys;")
    }
}
