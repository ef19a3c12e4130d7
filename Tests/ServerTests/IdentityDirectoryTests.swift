import Foundation
import LocalStore
import ObjectStore
@testable import S3API
import S3Auth
import Synchronization
import Testing

/// The identity directory's snapshot follows every change at once, without reading the index again, and stays
/// equal to a snapshot loaded afresh from the index: named cases, each on a fresh index.
struct IdentityDirectoryTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let quotas: IdentityQuotas
        let check: @Sendable (Fixture) async throws -> Void
        init(_ name: String, quotas: IdentityQuotas = IdentityQuotas(), _ check: @escaping @Sendable (Fixture) async throws -> Void) {
            self.name = name
            self.quotas = quotas
            self.check = check
        }
        var testDescription: String { name }
    }

    /// A directory over a real index, an account "alt" in it, and a way to see what a lookup answers.
    struct Fixture: Sendable {
        let directory: IdentityDirectory
        let index: CountingIdentityIndex
        let alt: Account

        func lookup(_ accessKey: String) -> String {
            switch directory.credential(forAccessKey: accessKey) {
            case .unknown: "unknown"
            case .accountDisabled: "disabled"
            case .valid(let credential):
                switch credential.caller {
                case .root(let account): "root \(account.id) \(credential.secretKey)"
                case .user(let account, let name, _): "user \(account.id)/\(name) \(credential.secretKey)"
                case .anonymous: "anonymous"
                }
            }
        }

        func policies(_ userName: String) -> Int {
            directory.identityPolicies(.user(AccountIdentity(id: alt.id, canonicalID: alt.canonicalID), name: userName, userID: "")).count
        }
    }

    static let allowGet = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#

    /// A policy of `size` characters other than whitespace.
    static func policy(size: Int) -> String {
        let base = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::"#
        let end = #""}]}"#
        return base + String(repeating: "a", count: size - base.count - end.count) + end
    }

    static let cases: [Case] = [
        Case("a new account's root key works at once; a second root key too") { f in
            let (other, key) = try await f.directory.addAccount(name: "other", displayName: nil, email: nil, accessKey: "OTHERKEY", secretKey: "s1")
            #expect(key.accessKeyID == "OTHERKEY")
            #expect(f.lookup("OTHERKEY") == "root \(other.id) s1")
            let second = try await f.directory.createAccessKey(accountID: other.id, userName: nil)
            #expect(f.lookup(second.accessKeyID) == "root \(other.id) \(second.secretKey)")
        },
        Case("a user's key works at once as that user; deleted, it is unknown at once") { f in
            _ = try await f.directory.createUser(accountID: f.alt.id, name: "Bob", path: "/")
            let key = try await f.directory.createAccessKey(accountID: f.alt.id, userName: "Bob")
            #expect(f.lookup(key.accessKeyID) == "user \(f.alt.id)/Bob \(key.secretKey)")
            try await f.directory.deleteAccessKey(id: key.accessKeyID, accountID: f.alt.id, userName: "Bob")
            #expect(f.lookup(key.accessKeyID) == "unknown")
            try await f.directory.deleteUser(accountID: f.alt.id, name: "Bob")
            #expect(f.directory.currentSnapshot.user(accountID: f.alt.id, name: "Bob") == nil)
        },
        Case("a user named in another case is the same user") { f in
            _ = try await f.directory.createUser(accountID: f.alt.id, name: "Bob", path: "/")
            let key = try await f.directory.createAccessKey(accountID: f.alt.id, userName: "bob")
            #expect(f.lookup(key.accessKeyID) == "user \(f.alt.id)/Bob \(key.secretKey)")
            try await f.directory.putUserPolicy(accountID: f.alt.id, userName: "BOB", policyName: "p", document: allowGet)
            #expect(f.policies("Bob") == 1)
        },
        Case("an inactive key is unknown; active again, it works") { f in
            _ = try await f.directory.createUser(accountID: f.alt.id, name: "u", path: "/")
            let key = try await f.directory.createAccessKey(accountID: f.alt.id, userName: "u")
            try await f.directory.setAccessKeyActive(false, id: key.accessKeyID, accountID: f.alt.id, userName: "u")
            #expect(f.lookup(key.accessKeyID) == "unknown")
            try await f.directory.setAccessKeyActive(true, id: key.accessKeyID, accountID: f.alt.id, userName: "u")
            #expect(f.lookup(key.accessKeyID) == "user \(f.alt.id)/u \(key.secretKey)")
        },
        Case("policies take effect when put, replaced by name, gone when deleted") { f in
            _ = try await f.directory.createUser(accountID: f.alt.id, name: "u", path: "/")
            try await f.directory.putUserPolicy(accountID: f.alt.id, userName: "u", policyName: "a", document: allowGet)
            try await f.directory.putUserPolicy(accountID: f.alt.id, userName: "u", policyName: "b", document: allowGet)
            #expect(f.policies("u") == 2)
            try await f.directory.putUserPolicy(accountID: f.alt.id, userName: "u", policyName: "a", document: policy(size: 200))
            #expect(f.directory.currentSnapshot.user(accountID: f.alt.id, name: "u")?.policies["a"]?.size == 200)
            try await f.directory.deleteUserPolicy(accountID: f.alt.id, userName: "u", policyName: "a")
            #expect(f.policies("u") == 1)
        },
        Case("a disabled account's keys answer disabled, its users' too; enabled again they work") { f in
            _ = try await f.directory.createUser(accountID: f.alt.id, name: "u", path: "/")
            let key = try await f.directory.createAccessKey(accountID: f.alt.id, userName: "u")
            try await f.directory.setAccountDisabled(true, name: "alt")
            #expect(f.lookup("ALTKEY") == "disabled" && f.lookup(key.accessKeyID) == "disabled")
            #expect(f.directory.account(id: f.alt.id)?.isDisabled == true)
            try await f.directory.setAccountDisabled(false, name: "alt")
            #expect(f.lookup("ALTKEY") == "root \(f.alt.id) altsecret")
        },
        Case("a removed account takes its users, keys and policies with it") { f in
            _ = try await f.directory.createUser(accountID: f.alt.id, name: "u", path: "/")
            let key = try await f.directory.createAccessKey(accountID: f.alt.id, userName: "u")
            try await f.directory.putUserPolicy(accountID: f.alt.id, userName: "u", policyName: "p", document: allowGet)
            try await f.directory.removeAccount(name: "alt")
            #expect(f.lookup("ALTKEY") == "unknown" && f.lookup(key.accessKeyID) == "unknown")
            #expect(f.directory.account(id: f.alt.id) == nil && f.directory.account(canonicalID: f.alt.canonicalID) == nil)
            #expect(f.policies("u") == 0)
        },
        Case("a declared key's secret is replaced at once") { f in
            try await f.directory.addAccessKey(id: "DECLARED", secret: "one", accountID: f.alt.id, userName: nil)
            try await f.directory.setSecret("two", accessKeyID: "DECLARED")
            #expect(f.lookup("DECLARED") == "root \(f.alt.id) two")
        },
        Case("refused changes leave the snapshot as it was") { f in
            _ = try await f.directory.createUser(accountID: f.alt.id, name: "u", path: "/")
            _ = try await f.directory.createAccessKey(accountID: f.alt.id, userName: "u")
            let before = f.directory.currentSnapshot
            await #expect(throws: IdentityError.self) { try await f.directory.createUser(accountID: f.alt.id, name: "U", path: "/") }
            await #expect(throws: IdentityError.self) { try await f.directory.deleteUser(accountID: f.alt.id, name: "u") }
            await #expect(throws: IdentityError.self) {
                try await f.directory.deleteAccessKey(id: "ALTKEY", accountID: f.alt.id, userName: "u")
            }
            await #expect(throws: IdentityError.self) {
                try await f.directory.putUserPolicy(accountID: f.alt.id, userName: "nobody", policyName: "p", document: allowGet)
            }
            await #expect(throws: IdentityError.self) { try await f.directory.setAccountDisabled(true, name: "nobody") }
            #expect(f.directory.currentSnapshot == before)
        },
        Case("the users quota: one more is LimitExceeded; other accounts are not counted", quotas: IdentityQuotas(usersPerAccount: 3)) { f in
            for name in ["a", "b", "c"] { _ = try await f.directory.createUser(accountID: f.alt.id, name: name, path: "/") }
            await #expect(throws: IdentityError.limitExceeded("Cannot exceed quota for UsersPerAccount: 3")) {
                try await f.directory.createUser(accountID: f.alt.id, name: "d", path: "/")
            }
            let (other, _) = try await f.directory.addAccount(name: "other", displayName: nil, email: nil, accessKey: nil, secretKey: nil)
            _ = try await f.directory.createUser(accountID: other.id, name: "a", path: "/")
        },
        Case("a user's policies together may not pass the size quota; replacing one counts its new size alone") { f in
            _ = try await f.directory.createUser(accountID: f.alt.id, name: "u", path: "/")
            try await f.directory.putUserPolicy(accountID: f.alt.id, userName: "u", policyName: "a", document: policy(size: 1_000), sizeLimit: 2_048)
            try await f.directory.putUserPolicy(accountID: f.alt.id, userName: "u", policyName: "b", document: policy(size: 1_048), sizeLimit: 2_048)
            await #expect(throws: IdentityError.limitExceeded("Maximum policy size of 2048 bytes exceeded for user u")) {
                try await f.directory.putUserPolicy(accountID: f.alt.id, userName: "u", policyName: "c", document: allowGet, sizeLimit: 2_048)
            }
            try await f.directory.putUserPolicy(accountID: f.alt.id, userName: "u", policyName: "a", document: policy(size: 900), sizeLimit: 2_048)
            #expect(f.policies("u") == 2)
        },
        Case("concurrent changes to one key end as the index has them") { f in
            _ = try await f.directory.createUser(accountID: f.alt.id, name: "u", path: "/")
            let key = try await f.directory.createAccessKey(accountID: f.alt.id, userName: "u")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for turn in 0..<40 {
                    group.addTask {
                        try await f.directory.setAccessKeyActive(turn % 2 == 0, id: key.accessKeyID, accountID: f.alt.id, userName: "u")
                    }
                }
                try await group.waitForAll()
            }
            let stored = try await f.index.accessKey(id: key.accessKeyID)
            #expect(f.directory.currentSnapshot.keys[key.accessKeyID]?.isActive == stored?.isActive)
        },
        Case("users created at once are all there") { f in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 0..<50 {
                    group.addTask {
                        _ = try await f.directory.createUser(accountID: f.alt.id, name: "user\(n)", path: "/")
                        _ = try await f.directory.createAccessKey(accountID: f.alt.id, userName: "user\(n)")
                    }
                }
                try await group.waitForAll()
            }
            #expect(f.directory.currentSnapshot.accounts[f.alt.id]?.users.count == 50)
        },
        Case("a write whose outcome is unknown makes the directory read that account again") { f in
            _ = try await f.directory.createUser(accountID: f.alt.id, name: "u", path: "/")
            let key = try await f.directory.createAccessKey(accountID: f.alt.id, userName: "u")
            f.index.failAfterNextWrite()
            await #expect(throws: StoreError.self) {
                try await f.directory.deleteAccessKey(id: key.accessKeyID, accountID: f.alt.id, userName: "u")
            }
            // The delete committed although it reported a failure: the key must be gone from the directory too.
            #expect(f.lookup(key.accessKeyID) == "unknown")
            #expect(f.index.recordReads == 2)
        },
    ]

    @Test(arguments: cases)
    func directory(_ check: Case) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-identity-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let sqlite = try SQLiteIndex(path: folder + "/index.sqlite")
        let index = CountingIdentityIndex(sqlite)
        let masterKey = MasterKey(bytes: Array(repeating: 7, count: 32))
        let directory = IdentityDirectory(index: index, masterKey: masterKey, quotas: check.quotas)
        _ = try await directory.bootstrapOperator(accessKey: "OPKEY", secretKey: "opsecret")
        let (alt, _) = try await directory.addAccount(name: "alt", displayName: nil, email: nil, accessKey: "ALTKEY", secretKey: "altsecret")
        #expect(index.recordReads == 1, "start-up reads the tables once")
        try await check.check(Fixture(directory: directory, index: index, alt: alt))
        if !check.name.contains("outcome is unknown") {
            #expect(index.recordReads == 1, "a change is applied without reading the identity tables again")
        }
        let fresh = IdentityDirectory(index: sqlite, masterKey: masterKey)
        try await fresh.reload()
        #expect(directory.currentSnapshot == fresh.currentSnapshot, "the snapshot equals one loaded from the index")
        try sqlite.close()
    }
}

/// The SQLite index, counting full reads of the identity tables, and able to fail a write after committing it
/// (a reply lost between the index and the directory).
final class CountingIdentityIndex: IdentityIndex {
    let base: SQLiteIndex
    private let reads = Atomic<Int>(0)
    private let failNext = Atomic<Bool>(false)

    init(_ base: SQLiteIndex) { self.base = base }

    var recordReads: Int { reads.load(ordering: .relaxed) }
    func failAfterNextWrite() { failNext.store(true, ordering: .relaxed) }

    private func written() throws {
        if failNext.exchange(false, ordering: .relaxed) { throw StoreError.ioFailure("the reply was lost") }
    }

    func identityRecords(accountID: String?) async throws -> IdentityRecords {
        reads.add(1, ordering: .relaxed)
        return try await base.identityRecords(accountID: accountID)
    }

    func createAccount(_ account: Account, rootKey: AccessKey) async throws {
        try await base.createAccount(account, rootKey: rootKey)
        try written()
    }
    func account(named name: String) async throws -> Account? { try await base.account(named: name) }
    func account(id: String) async throws -> Account? { try await base.account(id: id) }
    func accounts() async throws -> [Account] { try await base.accounts() }
    func setAccountDisabled(_ disabled: Bool, name: String) async throws {
        try await base.setAccountDisabled(disabled, name: name)
        try written()
    }
    func deleteAccount(named name: String) async throws {
        try await base.deleteAccount(named: name)
        try written()
    }
    func bootstrapOperator(_ account: Account, rootKey: AccessKey) async throws -> Account {
        try await base.bootstrapOperator(account, rootKey: rootKey)
    }
    func createUser(_ user: IAMUser, maxUsersInAccount: Int) async throws {
        try await base.createUser(user, maxUsersInAccount: maxUsersInAccount)
        try written()
    }
    func user(accountID: String, name: String) async throws -> IAMUser? { try await base.user(accountID: accountID, name: name) }
    func users(accountID: String) async throws -> [IAMUser] { try await base.users(accountID: accountID) }
    func deleteUser(accountID: String, name: String) async throws {
        try await base.deleteUser(accountID: accountID, name: name)
        try written()
    }
    func createAccessKey(_ key: AccessKey) async throws {
        try await base.createAccessKey(key)
        try written()
    }
    func accessKey(id: String) async throws -> AccessKey? { try await base.accessKey(id: id) }
    func accessKeys(accountID: String, userName: String?) async throws -> [AccessKey] {
        try await base.accessKeys(accountID: accountID, userName: userName)
    }
    func setAccessKeyActive(_ active: Bool, id: String, accountID: String, userName: String?) async throws {
        try await base.setAccessKeyActive(active, id: id, accountID: accountID, userName: userName)
        try written()
    }
    func deleteAccessKey(id: String, accountID: String, userName: String?) async throws {
        try await base.deleteAccessKey(id: id, accountID: accountID, userName: userName)
        try written()
    }
    func allAccessKeys() async throws -> [AccessKey] { try await base.allAccessKeys() }
    func resealAccessKeySecrets(_ sealed: [String: [UInt8]]) async throws {
        try await base.resealAccessKeySecrets(sealed)
        try written()
    }
    func putUserPolicy(accountID: String, userName: String, policyName: String, document: String) async throws {
        try await base.putUserPolicy(accountID: accountID, userName: userName, policyName: policyName, document: document)
        try written()
    }
    func userPolicies(accountID: String, userName: String) async throws -> [(name: String, document: String)] {
        try await base.userPolicies(accountID: accountID, userName: userName)
    }
    func deleteUserPolicy(accountID: String, userName: String, policyName: String) async throws {
        try await base.deleteUserPolicy(accountID: accountID, userName: userName, policyName: policyName)
        try written()
    }
}
