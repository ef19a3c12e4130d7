import Foundation
import LocalStore
import ObjectStore
import Testing

/// What every ``IdentityIndex`` must do: named cases, each on a fresh index, run against SQLite here and against
/// PostgreSQL by ``PostgresIdentityIndexTests``. The indexes that hold identities hold buckets too (deleting an
/// account needs its buckets gone; the operator adopts ownerless ones), so a case gets both.
struct IdentityIndexTests {
    typealias Index = IdentityIndex & StorageIndex

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let check: @Sendable (any Index) async throws -> Void
        init(_ name: String, _ check: @escaping @Sendable (any Index) async throws -> Void) {
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
        Case("a user is found, keyed and given policies whatever the case of its name, and keeps the case it was given") { index in
            try await index.createAccount(account("alt", id: "111111111111"), rootKey: key("AK1", "111111111111"))
            try await index.createUser(user("Bob", "111111111111"), maxUsersInAccount: 10)
            #expect(try await index.user(accountID: "111111111111", name: "BOB") == user("Bob", "111111111111"))
            try await index.createAccessKey(key("U1", "111111111111", user: "bob"))
            try await index.createAccessKey(key("U2", "111111111111", user: "BOB"))
            await #expect(throws: IdentityError.limitExceeded("Cannot exceed quota for AccessKeysPerUser: 2")) {
                try await index.createAccessKey(key("U3", "111111111111", user: "Bob"))
            }
            #expect(try await index.accessKeys(accountID: "111111111111", userName: "Bob").map(\.id) == ["U1", "U2"])
            try await index.putUserPolicy(accountID: "111111111111", userName: "bob", policyName: "p", document: "{}")
            try await index.putUserPolicy(accountID: "111111111111", userName: "BOB", policyName: "p", document: "{\"v\":2}")
            // Policy names, unlike user names, are compared exactly.
            try await index.putUserPolicy(accountID: "111111111111", userName: "Bob", policyName: "P", document: "{}")
            #expect(try await index.userPolicies(accountID: "111111111111", userName: "Bob").map(\.name) == ["P", "p"])
            #expect(try await index.userPolicies(accountID: "111111111111", userName: "bOB").map(\.document) == ["{}", "{\"v\":2}"])
            await #expect(throws: IdentityError.deleteConflict("Cannot delete entity, must delete access keys first.")) {
                try await index.deleteUser(accountID: "111111111111", name: "bob")
            }
            try await index.deleteAccessKey(id: "U1", accountID: "111111111111", userName: "BoB")
            try await index.deleteAccessKey(id: "U2", accountID: "111111111111", userName: "bob")
            await #expect(throws: IdentityError.deleteConflict("Cannot delete entity, must delete policies first.")) {
                try await index.deleteUser(accountID: "111111111111", name: "BOB")
            }
            for name in ["p", "P"] { try await index.deleteUserPolicy(accountID: "111111111111", userName: "BOB", policyName: name) }
            try await index.deleteUser(accountID: "111111111111", name: "bOb")
            #expect(try await index.user(accountID: "111111111111", name: "Bob") == nil)
        },
        Case("only ASCII letters fold: names that differ in the case of other letters are different users") { index in
            try await index.createAccount(account("alt", id: "111111111111"), rootKey: key("AK1", "111111111111"))
            try await index.createUser(user("Éa", "111111111111"), maxUsersInAccount: 10)
            try await index.createUser(user("éA", "111111111111"), maxUsersInAccount: 10)
            #expect(try await index.user(accountID: "111111111111", name: "ÉA")?.userID == user("Éa", "111111111111").userID)
            #expect(try await index.user(accountID: "111111111111", name: "éa")?.userID == user("éA", "111111111111").userID)
            #expect(try await index.users(accountID: "111111111111").map(\.name) == ["Éa", "éA"])
        },
        Case("users are listed by name whatever its case; accounts by name in byte order") { index in
            for (name, id) in [("beta", "111111111111"), ("Alpha", "222222222222"), ("alpha2", "333333333333")] {
                try await index.createAccount(account(name, id: id), rootKey: key("AK" + id, id))
            }
            for name in ["carol", "Bob", "alice", "Dave"] { try await index.createUser(user(name, "111111111111"), maxUsersInAccount: 10) }
            #expect(try await index.users(accountID: "111111111111").map(\.name) == ["alice", "Bob", "carol", "Dave"])
            #expect(try await index.identityRecords(accountID: "111111111111").users.map(\.name) == ["alice", "Bob", "carol", "Dave"])
            #expect(try await index.accounts().map(\.name) == ["Alpha", "alpha2", "beta"])
            #expect(try await index.users(accountID: "222222222222").isEmpty)
        },
        Case("what is missing is reported as NoSuchEntity, and nothing changes") { index in
            try await index.createAccount(account("alt", id: "111111111111"), rootKey: key("AK1", "111111111111"))
            await #expect(throws: IdentityError.noSuchEntity("The account 999999999999 cannot be found.")) {
                try await index.createUser(user("u", "999999999999"), maxUsersInAccount: 10)
            }
            await #expect(throws: IdentityError.noSuchEntity("The user with name ghost cannot be found.")) {
                try await index.createAccessKey(key("G1", "111111111111", user: "ghost"))
            }
            await #expect(throws: IdentityError.noSuchEntity("The user with name ghost cannot be found.")) {
                try await index.putUserPolicy(accountID: "111111111111", userName: "ghost", policyName: "p", document: "{}")
            }
            await #expect(throws: IdentityError.noSuchEntity("The user with name ghost cannot be found.")) {
                try await index.deleteUser(accountID: "111111111111", name: "ghost")
            }
            try await index.createUser(user("u", "111111111111"), maxUsersInAccount: 10)
            await #expect(throws: IdentityError.noSuchEntity("The user policy with name p cannot be found.")) {
                try await index.deleteUserPolicy(accountID: "111111111111", userName: "u", policyName: "p")
            }
            // A user's name in another account is not this account's user.
            await #expect(throws: IdentityError.noSuchEntity("The user with name u cannot be found.")) {
                try await index.putUserPolicy(accountID: "222222222222", userName: "u", policyName: "p", document: "{}")
            }
            await #expect(throws: IdentityError.noSuchEntity("The account ghost cannot be found.")) {
                try await index.setAccountDisabled(true, name: "ghost")
            }
            await #expect(throws: IdentityError.noSuchEntity("The account ghost cannot be found.")) {
                try await index.deleteAccount(named: "ghost")
            }
            await #expect(throws: IdentityError.noSuchEntity("The Access Key with id NONE cannot be found.")) {
                try await index.deleteAccessKey(id: "NONE", accountID: "111111111111", userName: nil)
            }
            #expect(try await index.account(named: "ghost") == nil)
            #expect(try await index.account(id: "999999999999") == nil)
            #expect(try await index.accessKey(id: "G1") == nil)
            #expect(try await index.userPolicies(accountID: "111111111111", userName: "u").isEmpty)
            #expect(try await index.identityRecords(accountID: nil).accessKeys.map(\.id) == ["AK1"])
        },
        Case("an account is disabled and enabled again, and keeps everything else") { index in
            try await index.createAccount(account("alt", id: "111111111111"), rootKey: key("AK1", "111111111111"))
            try await index.setAccountDisabled(true, name: "alt")
            var disabled = account("alt", id: "111111111111")
            disabled.isDisabled = true
            #expect(try await index.account(id: "111111111111") == disabled)
            try await index.setAccountDisabled(false, name: "alt")
            #expect(try await index.account(named: "alt") == account("alt", id: "111111111111"))
        },
        Case("a master key rotation re-seals every key, roots' and users' alike, in one change") { index in
            try await index.createAccount(account("alt", id: "111111111111"), rootKey: key("AK1", "111111111111"))
            try await index.createUser(user("u", "111111111111"), maxUsersInAccount: 10)
            try await index.createAccessKey(key("U1", "111111111111", user: "u"))
            #expect(try await index.allAccessKeys().map(\.id) == ["AK1", "U1"])
            try await index.resealAccessKeySecrets(["AK1": [7, 7, 7, 7], "U1": [8], "NONE": [1]])
            let keys = try await index.allAccessKeys()
            #expect(keys.map(\.sealedSecret) == [[7, 7, 7, 7], [8]])
            #expect(keys.map(\.userName) == [nil, "u"] && keys.allSatisfy(\.isActive))
            #expect(try await index.accessKey(id: "NONE") == nil)
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
