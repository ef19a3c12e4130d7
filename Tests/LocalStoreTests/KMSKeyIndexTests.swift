import Foundation
import GRDB
import ObjectStore
import Testing

@testable import LocalStore

@Suite("The key service's keys in the SQLite index")
struct KMSKeyIndexTests {
    static func key(_ id: String, alias: String?) -> KMSKey {
        KMSKey(id: id, alias: alias, description: "d", created: Date(timeIntervalSince1970: 1_700_000_000),
               enabled: true, sealedMaterial: [1, 2, 3])
    }

    @Test("keys are found by id and alias, aliases are unique, and material is re-sealed in place")
    func keys() async throws {
        try await withTemporaryDirectory { directory in
        let index = try SQLiteIndex(path: directory + "/index.sqlite")
        try await index.createKMSKey(Self.key("11111111-1111-1111-1111-111111111111", alias: "media"))
        try await index.createKMSKey(Self.key("22222222-2222-2222-2222-222222222222", alias: nil))
        await #expect(throws: StoreError.keyAlreadyExists) {
            try await index.createKMSKey(Self.key("33333333-3333-3333-3333-333333333333", alias: "media"))
        }
        #expect(try await index.kmsKeys().map(\.id) == ["11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"])
        #expect(try await index.kmsKey(named: "alias/media")?.id == "11111111-1111-1111-1111-111111111111")
        #expect(try await index.kmsKey(named: "media")?.id == "11111111-1111-1111-1111-111111111111")
        #expect(try await index.kmsKey(named: "22222222-2222-2222-2222-222222222222")?.alias == nil)
        #expect(try await index.kmsKey(named: "alias/none") == nil)
        try await index.resealKMSKeys(["11111111-1111-1111-1111-111111111111": [9, 9]])
        #expect(try await index.kmsKey(named: "media")?.sealedMaterial == [9, 9])
        try index.close()
        }
    }
}
