import Foundation
import ObjectStore
import Testing

@testable import PostgresIndex

@Suite("IdentityIndex on PostgreSQL", .enabled(if: PostgresTestServer.url != nil, "needs MARTLET_TEST_POSTGRES (make test provides it)"))
struct PostgresIdentityIndexTests {
    typealias Fixture = IdentityIndexTests

    @Test(arguments: IdentityIndexTests.cases)
    func identity(_ check: IdentityIndexTests.Case) async throws {
        try await withPostgresIndex { index, _ in try await check.check(index) }
    }

    struct Race: Sendable, CustomTestStringConvertible {
        let name: String
        /// Run once before the race, through the first node.
        let setUp: @Sendable (PostgresIndex) async throws -> Void
        /// What writer `n` tries.
        let attempt: @Sendable (PostgresIndex, Int) async throws -> Void
        /// What a writer that loses may be told (one of these).
        let losses: [any Error]
        /// What must hold afterwards, read through the second node.
        let after: @Sendable (PostgresIndex) async throws -> Void
        var testDescription: String { name }
    }

    static let races: [Race] = [
        Race(
            name: "the same user name, in two cases",
            setUp: { try await $0.createAccount(Fixture.account("alt", id: "111111111111"), rootKey: Fixture.key("AK1", "111111111111")) },
            attempt: { node, writer in
                let name = writer.isMultiple(of: 4) ? "racer" : "Racer" // both nodes try both spellings
                try await node.createUser(
                    IAMUser(accountID: "111111111111", name: name, userID: "AIDA\(writer)", path: "/", createdAt: Fixture.date),
                    maxUsersInAccount: 100)
            },
            losses: ["racer", "Racer"].map { IdentityError.entityAlreadyExists("User with name \($0) already exists.") },
            after: { index in
                let count = try await index.users(accountID: "111111111111").count
                #expect(count == 1)
            }),
        Race(
            name: "the last place under the users quota, for different names",
            setUp: { index in
                try await index.createAccount(Fixture.account("alt", id: "111111111111"), rootKey: Fixture.key("AK1", "111111111111"))
                try await index.createUser(Fixture.user("first", "111111111111"), maxUsersInAccount: 2)
            },
            attempt: { node, writer in try await node.createUser(Fixture.user("u\(writer)", "111111111111"), maxUsersInAccount: 2) },
            losses: [IdentityError.limitExceeded("Cannot exceed quota for UsersPerAccount: 2")],
            after: { index in
                let count = try await index.users(accountID: "111111111111").count
                #expect(count == 2)
            }),
        Race(
            name: "the second access key of an account's root",
            setUp: { try await $0.createAccount(Fixture.account("alt", id: "111111111111"), rootKey: Fixture.key("AK1", "111111111111")) },
            attempt: { node, writer in try await node.createAccessKey(Fixture.key("AK-\(writer)", "111111111111")) },
            losses: [IdentityError.limitExceeded("Cannot exceed quota for AccessKeysPerUser: 2")],
            after: { index in
                let count = try await index.accessKeys(accountID: "111111111111", userName: nil).count
                #expect(count == 2)
            }),
        Race(
            name: "the same account name",
            setUp: { _ in },
            attempt: { node, writer in
                let id = String(format: "%012d", writer + 1)
                try await node.createAccount(Fixture.account("alt", id: id), rootKey: Fixture.key("AK-\(writer)", id))
            },
            losses: [IdentityError.entityAlreadyExists("Account alt already exists.")],
            after: { index in
                let accounts = try await index.accounts()
                #expect(accounts.count == 1)
                // The winner's root key went in with it; no loser's did.
                #expect(try await index.allAccessKeys().map(\.accountID) == accounts.map(\.id))
            }),
    ]

    @Test("two nodes racing for one name or one place: exactly one wins, the others are told why", arguments: races)
    func twoNodes(_ race: Race) async throws {
        try await withPostgresIndex(connections: 8) { first, url in
            try await withPostgresIndex(url: url, connections: 8) { second in
                try await race.setUp(first)
                let outcomes = await LocalStoreTests.race(first, second, race.attempt)
                #expect(outcomes.winners == 1)
                #expect(outcomes.losses.isSubset(of: race.losses.map { String(describing: $0) }), "\(outcomes.losses)")
                try await race.after(second)
            }
        }
    }

    @Test("two nodes bootstrapping an empty database at once make one operator, whose root key is one of theirs")
    func bootstrapRace() async throws {
        try await withPostgresIndex(connections: 8) { first, url in
            try await withPostgresIndex(url: url, connections: 8) { second in
                let operators = try await withThrowingTaskGroup(of: Account.self) { group in
                    for (n, node) in [first, second].enumerated() {
                        group.addTask {
                            try await node.bootstrapOperator(Fixture.account("martlet", id: "33333333333\(n)"), rootKey: Fixture.key("OP\(n)", ""))
                        }
                    }
                    return try await group.reduce(into: [Account]()) { $0.append($1) }
                }
                #expect(Set(operators.map(\.id)).count == 1)
                let accounts = try await second.accounts()
                #expect(accounts.count == 1 && accounts.first?.isOperator == true)
                let keys = try await second.allAccessKeys()
                #expect(keys.count == 1 && keys.first?.accountID == accounts.first?.id)
            }
        }
    }

    @Test("every identity and key change is announced to the other nodes, naming the account or the key, when it commits")
    func announcements() async throws {
        try await withPostgresIndex { index, _ in
            let alt = "111111111111"
            let kmsKey = KMSKeyIndexTests.key(KMSKeyIndexTests.media, alias: "media", account: alt)
            let steps: [(name: String, step: @Sendable () async throws -> Void, heard: Set<String>)] = [
                ("create an account", { try await index.createAccount(Fixture.account("alt", id: alt), rootKey: Fixture.key("AK1", alt)) },
                 ["identity:\(alt)"]),
                ("create a user", { try await index.createUser(Fixture.user("u", alt), maxUsersInAccount: 10) }, ["identity:\(alt)"]),
                ("give it a key", { try await index.createAccessKey(Fixture.key("U1", alt, user: "u")) }, ["identity:\(alt)"]),
                ("disable the key", { try await index.setAccessKeyActive(false, id: "U1", accountID: alt, userName: "u") },
                 ["identity:\(alt)"]),
                ("put a policy", {
                    try await index.putUserPolicy(accountID: alt, userName: "u", policyName: "p", document: "{}")
                }, ["identity:\(alt)"]),
                ("a change refused changes nothing and says nothing", {
                    _ = try? await index.createUser(Fixture.user("U", alt), maxUsersInAccount: 10)
                }, []),
                ("re-seal the secrets", { try await index.resealAccessKeySecrets(["U1": [4]]) }, ["identity:\(alt)"]),
                ("delete the policy", { try await index.deleteUserPolicy(accountID: alt, userName: "u", policyName: "p") },
                 ["identity:\(alt)"]),
                ("delete the key", { try await index.deleteAccessKey(id: "U1", accountID: alt, userName: "u") }, ["identity:\(alt)"]),
                ("delete the user", { try await index.deleteUser(accountID: alt, name: "u") }, ["identity:\(alt)"]),
                ("disable the account", { try await index.setAccountDisabled(true, name: "alt") }, ["identity:\(alt)"]),
                ("create a KMS key", { try await index.createKMSKey(kmsKey) }, ["kms:\(kmsKey.id)"]),
                ("re-seal it", { try await index.resealKMSKeys([kmsKey.id: [5]]) }, ["kms:\(kmsKey.id)"]),
                ("delete the account", { try await index.deleteAccount(named: "alt") }, ["identity:\(alt)"]),
                ("make a bucket without an owner", {
                    try await index.createBucket(BucketInfo(name: "old", creationDate: Fixture.date, region: "us-east-1"))
                }, ["bucket:old"]),
                ("bootstrap the operator, who adopts it", {
                    _ = try await index.bootstrapOperator(Fixture.account("martlet", id: "333333333333"), rootKey: Fixture.key("OP", ""))
                }, ["identity:333333333333", "bucket:old"]),
            ]
            try await index.autocommit { session in
                try await session.connection.listen(on: "martlet_changes") { notifications in
                    var heard = notifications.makeAsyncIterator()
                    for step in steps {
                        try await step.step()
                        // Notifications arrive in commit order: everything the step announced comes before this.
                        try await index.autocommit { try await $0.execute("NOTIFY martlet_changes, 'done:'") }
                        var payloads = Set<String>()
                        while let notification = try await heard.next(), notification.payload != "done:" {
                            // VERSION:KIND:NAME; the version is the cluster's change counter.
                            let fields = notification.payload.split(separator: ":", maxSplits: 1)
                            #expect(fields.count == 2 && Int64(fields[0]) != nil, "\(notification.payload)")
                            payloads.insert(fields.count == 2 ? String(fields[1]) : notification.payload)
                        }
                        #expect(payloads == step.heard, "\(step.name)")
                    }
                }
            }
        }
    }
}
