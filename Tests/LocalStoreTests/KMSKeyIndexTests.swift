import Foundation
import GRDB
import ObjectStore
import Testing

@testable import LocalStore

@Suite("The key service's keys in the SQLite index")
struct KMSKeyIndexTests {
    static let owner = "111111111111"
    static let other = "222222222222"

    static func key(_ id: String, alias: String?, account: String = owner) -> KMSKey {
        KMSKey(id: id, accountID: account, alias: alias, description: "d", created: Date(timeIntervalSince1970: 1_700_000_000),
               enabled: true, sealedMaterial: [1, 2, 3], policy: KMSKeyPolicy.defaultPolicy(accountID: account))
    }

    @Test("keys are found by id and alias within their account, aliases are unique per account, and material is re-sealed in place")
    func keys() async throws {
        try await withTemporaryDirectory { directory in
        let index = try SQLiteIndex(path: directory + "/index.sqlite")
        try await index.createKMSKey(Self.key("11111111-1111-1111-1111-111111111111", alias: "media"))
        try await index.createKMSKey(Self.key("22222222-2222-2222-2222-222222222222", alias: nil))
        await #expect(throws: StoreError.keyAlreadyExists) {
            try await index.createKMSKey(Self.key("33333333-3333-3333-3333-333333333333", alias: "media"))
        }
        // Another account may have its own alias `media`.
        try await index.createKMSKey(Self.key("44444444-4444-4444-4444-444444444444", alias: "media", account: Self.other))
        #expect(try await index.kmsKeys().map(\.id) == [
            "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222", "44444444-4444-4444-4444-444444444444"])
        #expect(try await index.kmsKey(named: "alias/media", accountID: Self.owner)?.id == "11111111-1111-1111-1111-111111111111")
        #expect(try await index.kmsKey(named: "media", accountID: Self.owner)?.id == "11111111-1111-1111-1111-111111111111")
        #expect(try await index.kmsKey(named: "alias/media", accountID: Self.other)?.id == "44444444-4444-4444-4444-444444444444")
        #expect(try await index.kmsKey(named: "22222222-2222-2222-2222-222222222222", accountID: Self.owner)?.alias == nil)
        // An id names a key only in its own account; by id alone, in any.
        #expect(try await index.kmsKey(named: "22222222-2222-2222-2222-222222222222", accountID: Self.other) == nil)
        #expect(try await index.kmsKey(id: "44444444-4444-4444-4444-444444444444")?.accountID == Self.other)
        #expect(try await index.kmsKey(id: "media") == nil)
        #expect(try await index.kmsKey(named: "alias/none", accountID: Self.owner) == nil)
        let stored = try #require(try await index.kmsKey(id: "44444444-4444-4444-4444-444444444444"))
        #expect(stored == Self.key("44444444-4444-4444-4444-444444444444", alias: "media", account: Self.other))
        try await index.resealKMSKeys(["11111111-1111-1111-1111-111111111111": [9, 9]])
        #expect(try await index.kmsKey(named: "media", accountID: Self.owner)?.sealedMaterial == [9, 9])
        try index.close()
        }
    }

    @Test("keys from before accounts owned keys go to the operator's account, with the policy AWS gives such a key")
    func migration() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/index.sqlite"
            let operatorID = "123456789012"
            do {
                // An index as the release before key owners left it: two keys, one of them the default key.
                let queue = try DatabaseQueue(path: path)
                try SQLiteIndex.migrator.migrate(queue, upTo: "v13-notifications-usage")
                try await queue.write { db in
                    try db.execute(sql: """
                        INSERT INTO accounts (id, canonical_id, name, display_name, created_at, is_operator)
                        VALUES ('\(operatorID)', 'c1', 'martlet', 'martlet', 0, 1), ('999999999999', 'c2', 'other', 'other', 0, 0);
                        INSERT INTO kms_keys (id, alias, description, created_at, enabled, material)
                        VALUES ('11111111-1111-1111-1111-111111111111', 'media', 'd', 1, 1, x'0102'),
                               ('22222222-2222-2222-2222-222222222222', 'aws/s3', 'Default key for SSE-KMS', 2, 1, x'0304');
                        """)
                }
                try queue.close()
            }
            let index = try SQLiteIndex(path: path)
            let keys = try await index.kmsKeys()
            #expect(keys.map(\.accountID) == [operatorID, operatorID])
            #expect(keys.map(\.sealedMaterial) == [[1, 2], [3, 4]])
            #expect(keys[0].policy == KMSKeyPolicy.defaultPolicy(accountID: operatorID))
            #expect(keys[1].policy == KMSKeyPolicy.managedS3Policy(accountID: operatorID))
            #expect(try await index.kmsKey(named: "alias/media", accountID: operatorID)?.id == "11111111-1111-1111-1111-111111111111")
            // The alias is now unique per account, not per server.
            try await index.createKMSKey(Self.key("33333333-3333-3333-3333-333333333333", alias: "media", account: "999999999999"))
            await #expect(throws: StoreError.keyAlreadyExists) {
                try await index.createKMSKey(Self.key("44444444-4444-4444-4444-444444444444", alias: "media", account: operatorID))
            }
            try index.close()
        }
    }
}
