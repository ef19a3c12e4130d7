import Foundation
import GRDB
import ObjectStore
import PostgresIndex
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

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let check: @Sendable (any KMSKeyIndex) async throws -> Void
        init(_ name: String, _ check: @escaping @Sendable (any KMSKeyIndex) async throws -> Void) {
            self.name = name
            self.check = check
        }
        var testDescription: String { name }
    }

    static let media = "11111111-1111-1111-1111-111111111111"
    static let plain = "22222222-2222-2222-2222-222222222222"
    static let others = "44444444-4444-4444-4444-444444444444"

    /// What every ``KMSKeyIndex`` must do, run against SQLite here and against PostgreSQL by
    /// ``PostgresKMSKeyIndexTests``.
    static let cases: [Case] = [
        Case("keys are found by id and alias within their account, and by id alone in any") { index in
            try await index.createKMSKey(key(media, alias: "media"))
            try await index.createKMSKey(key(plain, alias: nil))
            try await index.createKMSKey(key(others, alias: "media", account: other))
            #expect(try await index.kmsKey(named: "alias/media", accountID: owner)?.id == media)
            #expect(try await index.kmsKey(named: "media", accountID: owner)?.id == media)
            #expect(try await index.kmsKey(named: "alias/media", accountID: other)?.id == others)
            #expect(try await index.kmsKey(named: plain, accountID: owner)?.alias == nil)
            // An id names a key only in its own account; by id alone, in any.
            #expect(try await index.kmsKey(named: plain, accountID: other) == nil)
            #expect(try await index.kmsKey(id: others)?.accountID == other)
            #expect(try await index.kmsKey(id: "media") == nil)
            #expect(try await index.kmsKey(named: "alias/none", accountID: owner) == nil)
            #expect(try await index.kmsKey(named: "alias/media", accountID: "333333333333") == nil)
        },
        Case("an alias is unique within its account, not across accounts; keys without one never collide") { index in
            try await index.createKMSKey(key(media, alias: "media"))
            await #expect(throws: StoreError.keyAlreadyExists) {
                try await index.createKMSKey(key("33333333-3333-3333-3333-333333333333", alias: "media"))
            }
            // Another account may have its own alias `media`.
            try await index.createKMSKey(key(others, alias: "media", account: other))
            try await index.createKMSKey(key(plain, alias: nil))
            try await index.createKMSKey(key("55555555-5555-5555-5555-555555555555", alias: nil))
            #expect(try await index.kmsKeys().map(\.id) == [media, plain, others, "55555555-5555-5555-5555-555555555555"])
            #expect(try await index.kmsKey(id: "33333333-3333-3333-3333-333333333333") == nil)
        },
        Case("a key keeps every field; keys are listed oldest first") { index in
            var later = key(media, alias: "later")
            later.created = Date(timeIntervalSince1970: 1_800_000_000.25)
            later.enabled = false
            later.description = "a key made later"
            later.policy = KMSKeyPolicy.managedS3Policy(accountID: owner)
            try await index.createKMSKey(later)
            try await index.createKMSKey(key(others, alias: "media", account: other))
            #expect(try await index.kmsKey(id: media) == later)
            #expect(try await index.kmsKey(id: others) == key(others, alias: "media", account: other))
            #expect(try await index.kmsKeys().map(\.id) == [others, media])
        },
        Case("material is re-sealed in place, and nothing else changes") { index in
            try await index.createKMSKey(key(media, alias: "media"))
            try await index.createKMSKey(key(others, alias: "media", account: other))
            try await index.resealKMSKeys([media: [9, 9], "99999999-9999-9999-9999-999999999999": [1]])
            var resealed = key(media, alias: "media")
            resealed.sealedMaterial = [9, 9]
            #expect(try await index.kmsKey(named: "media", accountID: owner) == resealed)
            #expect(try await index.kmsKey(id: others) == key(others, alias: "media", account: other))
            #expect(try await index.kmsKeys().count == 2)
        },
    ]

    @Test(arguments: cases)
    func keys(_ check: Case) async throws {
        try await withTemporaryDirectory { directory in
            let index = try SQLiteIndex(path: directory + "/index.sqlite")
            try await check.check(index)
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

@Suite("KMSKeyIndex on PostgreSQL", .enabled(if: PostgresTestServer.url != nil, "needs MARTLET_TEST_POSTGRES (make test provides it)"))
struct PostgresKMSKeyIndexTests {
    @Test(arguments: KMSKeyIndexTests.cases)
    func keys(_ check: KMSKeyIndexTests.Case) async throws {
        try await withPostgresIndex { index, _ in try await check.check(index) }
    }

    @Test("two nodes racing to give one alias in one account: exactly one wins, the others are told it exists")
    func aliasRace() async throws {
        try await withPostgresIndex(connections: 8) { first, url in
            try await withPostgresIndex(url: url, connections: 8) { second in
                // Another account's `media` neither blocks the race nor is taken by it.
                try await first.createKMSKey(KMSKeyIndexTests.key(KMSKeyIndexTests.others, alias: "media", account: KMSKeyIndexTests.other))
                let outcomes = await race(first, second) { node, writer in
                    try await node.createKMSKey(KMSKeyIndexTests.key(String(format: "00000000-0000-0000-0000-%012d", writer), alias: "media"))
                }
                #expect(outcomes.winners == 1)
                #expect(outcomes.losses == [String(describing: StoreError.keyAlreadyExists)])
                let keys = try await second.kmsKeys()
                #expect(keys.filter { $0.accountID == KMSKeyIndexTests.owner && $0.alias == "media" }.count == 1)
                #expect(keys.count == 2)
            }
        }
    }
}
