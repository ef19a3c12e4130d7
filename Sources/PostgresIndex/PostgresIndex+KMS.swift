import Foundation
import NIOCore
import ObjectStore
import PostgresNIO

/// The key service's keys (table `kms_keys`): each belongs to an account, within which its alias is unique.
extension PostgresIndex: KMSKeyIndex {
    public func createKMSKey(_ key: KMSKey) async throws {
        let created = IndexColumns.milliseconds(key.created)
        try await writeSetting { session in
            // Checked in the SERIALIZABLE transaction that inserts, so of two nodes creating one alias, one wins and the
            // other runs again and finds it. ON CONFLICT DO NOTHING makes a key committed after this transaction's
            // snapshot a serialization failure (retried) rather than a unique violation.
            if let alias = key.alias,
               try await session.row("SELECT 1 FROM kms_keys WHERE account_id = \(key.accountID) AND alias = \(alias)") != nil {
                throw StoreError.keyAlreadyExists
            }
            let inserted = try await session.rows("""
                INSERT INTO kms_keys (id, account_id, alias, description, created_at, enabled, material, policy)
                VALUES (\(key.id), \(key.accountID), \(key.alias), \(key.description), \(created), \(key.enabled),
                        \(ByteBuffer(bytes: key.sealedMaterial)), \(key.policy))
                ON CONFLICT DO NOTHING RETURNING 1
                """)
            // Only a key ID already taken gets here (the alias was checked above).
            if inserted.isEmpty { throw StoreError.keyAlreadyExists }
        }
    }

    public func kmsKeys() async throws -> [KMSKey] {
        try await autocommit { session in
            try await session.rows("SELECT * FROM kms_keys ORDER BY created_at, id").map(Self.kmsKey)
        }
    }

    public func kmsKey(id: String) async throws -> KMSKey? {
        try await autocommit { session in
            try await session.row("SELECT * FROM kms_keys WHERE id = \(id)").map(Self.kmsKey)
        }
    }

    public func kmsKey(named name: String, accountID: String) async throws -> KMSKey? {
        let alias = name.hasPrefix("alias/") ? String(name.dropFirst(6)) : name
        return try await autocommit { session in
            try await session.row("""
                SELECT * FROM kms_keys WHERE account_id = \(accountID) AND (id = \(name) OR alias = \(alias)) LIMIT 1
                """).map(Self.kmsKey)
        }
    }

    public func resealKMSKeys(_ materials: [String: [UInt8]]) async throws {
        try await writeSetting { session in
            for (id, material) in materials {
                try await session.execute("UPDATE kms_keys SET material = \(ByteBuffer(bytes: material)) WHERE id = \(id)")
            }
        }
    }

    private static func kmsKey(_ row: PostgresRandomAccessRow) throws -> KMSKey {
        KMSKey(
            id: try row["id"].decode(String.self), accountID: try row["account_id"].decode(String.self),
            alias: try row["alias"].decode(String?.self), description: try row["description"].decode(String.self),
            created: IndexColumns.date(milliseconds: try row["created_at"].decode(Int64.self)),
            enabled: try row["enabled"].decode(Bool.self),
            sealedMaterial: Array(try row["material"].decode(ByteBuffer.self).readableBytesView),
            policy: try row["policy"].decode(String.self))
    }
}
