import Foundation
import GRDB
import ObjectStore

/// The key service's keys (table `kms_keys`).
extension SQLiteIndex: KMSKeyIndex {
    public func createKMSKey(_ key: KMSKey) async throws {
        try await write { db in
            if let alias = key.alias,
               try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM kms_keys WHERE alias = ?)", arguments: [alias]) == true {
                throw StoreError.keyAlreadyExists
            }
            try db.execute(
                sql: "INSERT INTO kms_keys (id, alias, description, created_at, enabled, material) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [key.id, key.alias, key.description, Self.milliseconds(key.created), key.enabled, Data(key.sealedMaterial)])
        }
    }

    public func kmsKeys() async throws -> [KMSKey] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM kms_keys ORDER BY created_at, id").map(Self.kmsKey)
        }
    }

    public func kmsKey(named name: String) async throws -> KMSKey? {
        let alias = name.hasPrefix("alias/") ? String(name.dropFirst(6)) : name
        return try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM kms_keys WHERE id = ? OR alias = ? LIMIT 1", arguments: [name, alias])
                .map(Self.kmsKey)
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
            id: row["id"], alias: row["alias"], description: row["description"],
            created: date(milliseconds: row["created_at"]), enabled: row["enabled"],
            sealedMaterial: [UInt8]((row["material"] as Data?) ?? Data()))
    }
}
