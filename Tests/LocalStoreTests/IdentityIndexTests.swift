import Foundation
import LocalStore
import ObjectStore
import Testing

/// The identity tables of the SQLite index: named cases, each on a fresh index.
struct IdentityIndexTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let check: @Sendable (SQLiteIndex) async throws -> Void
        init(_ name: String, _ check: @escaping @Sendable (SQLiteIndex) async throws -> Void) {
            self.name = name
            self.check = check
        }
        var testDescription: String { name }
    }

    static let date = Date(timeIntervalSince1970: 1_700_000_000.5)

    static func account(_ name: String, id: String) -> Account {
        Account(id: id, canonicalID: String(repeating: String(id.suffix(1)), count: 64), name: name, displayName: name.uppercased(),
                email: "\(name)@example.test", createdAt: date)
    }

    static func key(_ id: String, _ accountID: String, user: String? = nil) -> AccessKey {
        AccessKey(id: id, accountID: accountID, userName: user, sealedSecret: [1, 2, 3], createdAt: date)
    }

    static func user(_ name: String, _ accountID: String) -> IAMUser {
        IAMUser(accountID: accountID, name: name, userID: "AIDA\(accountID)\(name)", path: "/", createdAt: date)
    }

    static let cases: [Case] = [
        Case("an account holds at most its quota of users; other accounts are not counted") { index in
            try await index.createAccount(account("alt", id: "111111111111"), rootKey: key("AK1", "111111111111"))
            try await index.createAccount(account("other", id: "222222222222"), rootKey: key("AK2", "222222222222"))
            for name in ["a", "b", "c"] { try await index.createUser(user(name, "111111111111"), maxUsersInAccount: 3) }
            await #expect(throws: IdentityError.limitExceeded("Cannot exceed quota for UsersPerAccount: 3")) {
                try await index.createUser(user("d", "111111111111"), maxUsersInAccount: 3)
            }
            try await index.createUser(user("a", "222222222222"), maxUsersInAccount: 3)
            // A deleted user frees its place; a raised quota lets more in.
            try await index.deleteUser(accountID: "111111111111", name: "a")
            try await index.createUser(user("d", "111111111111"), maxUsersInAccount: 3)
            try await index.createUser(user("e", "111111111111"), maxUsersInAccount: 4)
            #expect(try await index.users(accountID: "111111111111").map(\.name) == ["b", "c", "d", "e"])
        },
        Case("an existing name is reported as such even at the quota") { index in
            try await index.createAccount(account("alt", id: "111111111111"), rootKey: key("AK1", "111111111111"))
            try await index.createUser(user("a", "111111111111"), maxUsersInAccount: 1)
            await #expect(throws: IdentityError.entityAlreadyExists("User with name A already exists.")) {
                try await index.createUser(user("A", "111111111111"), maxUsersInAccount: 1)
            }
        },
        Case("an account's root has at most two keys, as a user") { index in
            try await index.createAccount(account("alt", id: "111111111111"), rootKey: key("AK1", "111111111111"))
            try await index.createAccessKey(key("AK2", "111111111111"))
            await #expect(throws: IdentityError.limitExceeded("Cannot exceed quota for AccessKeysPerUser: 2")) {
                try await index.createAccessKey(key("AK3", "111111111111"))
            }
            try await index.deleteAccessKey(id: "AK1", accountID: "111111111111", userName: nil)
            try await index.createAccessKey(key("AK3", "111111111111"))
        },
        Case("identity records: everything, or one account's rows alone") { index in
            try await index.createAccount(account("alt", id: "111111111111"), rootKey: key("AK1", "111111111111"))
            try await index.createAccount(account("other", id: "222222222222"), rootKey: key("AK2", "222222222222"))
            try await index.createUser(user("u", "111111111111"), maxUsersInAccount: 10)
            try await index.createUser(user("v", "222222222222"), maxUsersInAccount: 10)
            try await index.createAccessKey(key("U1", "111111111111", user: "u"))
            try await index.putUserPolicy(accountID: "111111111111", userName: "u", policyName: "p", document: "{}")
            let alt = try await index.identityRecords(accountID: "111111111111")
            #expect(alt == IdentityRecords(
                accounts: [account("alt", id: "111111111111")], users: [user("u", "111111111111")],
                accessKeys: [key("AK1", "111111111111"), key("U1", "111111111111", user: "u")],
                policies: [UserPolicy(accountID: "111111111111", userName: "u", name: "p", document: "{}")]))
            let all = try await index.identityRecords(accountID: nil)
            #expect(Set(all.accounts.map(\.id)) == ["111111111111", "222222222222"])
            #expect(Set(all.users.map(\.name)) == ["u", "v"] && Set(all.accessKeys.map(\.id)) == ["AK1", "AK2", "U1"])
            #expect(try await index.identityRecords(accountID: "333333333333") == IdentityRecords())
        },
        Case("an account is found by name and id with its root key") { index in
            try await index.createAccount(account("alt", id: "111111111111"), rootKey: key("AK1", "111111111111"))
            #expect(try await index.account(named: "alt") == account("alt", id: "111111111111"))
            #expect(try await index.account(id: "111111111111")?.name == "alt")
            #expect(try await index.accessKey(id: "AK1") == key("AK1", "111111111111"))
            #expect(try await index.accessKeys(accountID: "111111111111", userName: nil).map(\.id) == ["AK1"])
        },
        Case("a second account of the same name or key is refused") { index in
            try await index.createAccount(account("alt", id: "111111111111"), rootKey: key("AK1", "111111111111"))
            await #expect(throws: IdentityError.self) {
                try await index.createAccount(account("alt", id: "222222222222"), rootKey: key("AK2", "222222222222"))
            }
            await #expect(throws: IdentityError.self) {
                try await index.createAccount(account("other", id: "222222222222"), rootKey: key("AK1", "222222222222"))
            }
            #expect(try await index.accounts().map(\.name) == ["alt"])
        },
        Case("bootstrap makes the operator once, replaces its root key, and adopts ownerless buckets") { index in
            try await index.createBucket(BucketInfo(name: "old", creationDate: date, region: "us-east-1"))
            let first = try await index.bootstrapOperator(account("martlet", id: "333333333333"), rootKey: key("OP1", ""))
            #expect(first.isOperator)
            let again = try await index.bootstrapOperator(account("martlet", id: "444444444444"), rootKey: key("OP2", ""))
            #expect(again.id == "333333333333")
            #expect(try await index.accessKeys(accountID: "333333333333", userName: nil).map(\.id) == ["OP2"])
            #expect(try await index.accessKey(id: "OP1") == nil)
            #expect(try await index.bucket(named: "old")?.owner == "333333333333")
            await #expect(throws: IdentityError.deleteConflict("The operator's account cannot be removed.")) {
                try await index.deleteAccount(named: "martlet")
            }
        },
        Case("users: names unique regardless of case; at most two keys; delete needs keys and policies gone") { index in
            try await index.createAccount(account("alt", id: "111111111111"), rootKey: key("AK1", "111111111111"))
            let user = IAMUser(accountID: "111111111111", name: "Bob", userID: "AIDA1", path: "/", createdAt: date)
            try await index.createUser(user, maxUsersInAccount: 5_000)
            await #expect(throws: IdentityError.self) {
                try await index.createUser(
                    IAMUser(accountID: "111111111111", name: "bob", userID: "AIDA2", path: "/", createdAt: date), maxUsersInAccount: 5_000)
            }
            try await index.createAccessKey(key("U1", "111111111111", user: "Bob"))
            try await index.createAccessKey(key("U2", "111111111111", user: "Bob"))
            await #expect(throws: IdentityError.limitExceeded("Cannot exceed quota for AccessKeysPerUser: 2")) {
                try await index.createAccessKey(key("U3", "111111111111", user: "Bob"))
            }
            try await index.putUserPolicy(accountID: "111111111111", userName: "Bob", policyName: "p", document: "{}")
            try await index.putUserPolicy(accountID: "111111111111", userName: "Bob", policyName: "p", document: "{\"v\":2}")
            #expect(try await index.userPolicies(accountID: "111111111111", userName: "Bob").map(\.document) == ["{\"v\":2}"])
            await #expect(throws: IdentityError.self) { try await index.deleteUser(accountID: "111111111111", name: "Bob") }
            try await index.setAccessKeyActive(false, id: "U1", accountID: "111111111111", userName: "Bob")
            #expect(try await index.accessKey(id: "U1")?.isActive == false)
            for id in ["U1", "U2"] { try await index.deleteAccessKey(id: id, accountID: "111111111111", userName: "Bob") }
            try await index.deleteUserPolicy(accountID: "111111111111", userName: "Bob", policyName: "p")
            try await index.deleteUser(accountID: "111111111111", name: "Bob")
            #expect(try await index.users(accountID: "111111111111").isEmpty)
        },
        Case("a key is changed only through the identity it belongs to") { index in
            try await index.createAccount(account("alt", id: "111111111111"), rootKey: key("AK1", "111111111111"))
            try await index.createAccount(account("other", id: "222222222222"), rootKey: key("AK2", "222222222222"))
            await #expect(throws: IdentityError.self) {
                try await index.setAccessKeyActive(false, id: "AK1", accountID: "222222222222", userName: nil)
            }
            await #expect(throws: IdentityError.self) {
                try await index.deleteAccessKey(id: "AK1", accountID: "111111111111", userName: "someone")
            }
            #expect(try await index.accessKey(id: "AK1")?.isActive == true)
        },
        Case("an account that owns buckets is not removed; without them it goes with its users and keys") { index in
            try await index.createAccount(account("alt", id: "111111111111"), rootKey: key("AK1", "111111111111"))
            try await index.createBucket(BucketInfo(name: "alts", creationDate: date, region: "us-east-1", owner: "111111111111"))
            try await index.createUser(user("u", "111111111111"), maxUsersInAccount: 5_000)
            await #expect(throws: IdentityError.self) { try await index.deleteAccount(named: "alt") }
            _ = try await index.deleteBucket(named: "alts")
            try await index.deleteAccount(named: "alt")
            #expect(try await index.accessKey(id: "AK1") == nil)
            #expect(try await index.users(accountID: "111111111111").isEmpty)
        },
        Case("a bucket policy is kept as text and removed with nil") { index in
            try await index.createBucket(BucketInfo(name: "b", creationDate: date, region: "us-east-1", owner: "1"))
            #expect(try await index.bucketPolicy(bucket: "b") == nil)
            try await index.setBucketPolicy("{ \"Statement\": [] }", bucket: "b")
            #expect(try await index.bucketPolicy(bucket: "b") == "{ \"Statement\": [] }")
            try await index.setBucketPolicy(nil, bucket: "b")
            #expect(try await index.bucketPolicy(bucket: "b") == nil)
            await #expect(throws: StoreError.noSuchBucket) { try await index.setBucketPolicy("{}", bucket: "none") }
        },
    ]

    @Test(arguments: cases)
    func identity(_ check: Case) async throws {
        try await withTemporaryDirectory { directory in
            let index = try SQLiteIndex(path: directory + "/index.sqlite")
            try await check.check(index)
            try index.close()
        }
    }
}
