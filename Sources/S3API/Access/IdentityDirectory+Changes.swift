import Foundation
import ObjectStore
import S3Auth

/// Changes: each is committed to the index, then applied to the snapshot as the one change it is.
extension IdentityDirectory {
    /// A new key pair, generated unless given.
    public struct NewKey: Sendable {
        public var accessKeyID: String
        public var secretKey: String
        public var createdAt: Date
    }

    /// Makes the start-up credentials the operator's root key, creating the operator's account on first start,
    /// and loads the snapshot.
    public func bootstrapOperator(accessKey: String, secretKey: String) async throws -> Account {
        let account = Self.newAccount(name: "martlet", displayName: "martlet", email: nil)
        let key = AccessKey(
            id: accessKey, accountID: account.id, userName: nil,
            sealedSecret: masterKey.seal(secret: secretKey, accessKeyID: accessKey), createdAt: Self.now())
        return try await changes.run {
            let result = try await index.bootstrapOperator(account, rootKey: key)
            try await loadAll()
            return result
        }
    }

    public func addAccount(
        name: String, displayName: String?, email: String?, accessKey: String?, secretKey: String?
    ) async throws -> (Account, NewKey) {
        let account = Self.newAccount(name: name, displayName: displayName ?? name, email: email)
        let pair = NewKey(
            accessKeyID: accessKey ?? Self.randomString(16, Self.keyAlphabet, prefix: "AKIA"),
            secretKey: secretKey ?? Self.randomString(40, Self.secretAlphabet), createdAt: Self.now())
        let key = AccessKey(
            id: pair.accessKeyID, accountID: account.id, userName: nil,
            sealedSecret: masterKey.seal(secret: pair.secretKey, accessKeyID: pair.accessKeyID), createdAt: pair.createdAt)
        try await serially {
            try await commit(in: account.id) { try await index.createAccount(account, rootKey: key) }
            state.withLock { state in
                state.snapshot.putAccount(account)
                state.snapshot.putKey(id: key.id, .init(secret: pair.secretKey, accountID: account.id, userName: nil, isActive: true))
            }
        }
        return (account, pair)
    }

    public func accounts() async throws -> [Account] { try await index.accounts() }

    public func account(named name: String) async throws -> Account? { try await index.account(named: name) }

    public func setAccountDisabled(_ disabled: Bool, name: String) async throws {
        try await serially {
            guard var account = try await index.account(named: name) else {
                throw IdentityError.noSuchEntity("The account \(name) cannot be found.")
            }
            try await commit(in: account.id) { try await index.setAccountDisabled(disabled, name: name) }
            account.isDisabled = disabled
            state.withLock { $0.snapshot.putAccount(account) }
        }
    }

    public func removeAccount(name: String) async throws {
        try await serially {
            guard let account = try await index.account(named: name) else {
                throw IdentityError.noSuchEntity("The account \(name) cannot be found.")
            }
            try await commit(in: account.id) { try await index.deleteAccount(named: name) }
            state.withLock { $0.snapshot.removeAccount(id: account.id) }
        }
    }

    public func rootKeys(accountID: String) async throws -> [AccessKey] {
        try await index.accessKeys(accountID: accountID, userName: nil)
    }

    func createUser(accountID: String, name: String, path: String) async throws -> IAMUser {
        let user = IAMUser(
            accountID: accountID, name: name, userID: Self.randomString(17, Self.keyAlphabet, prefix: "AIDA"), path: path,
            createdAt: Self.now())
        try await serially {
            try await commit(in: accountID) { try await index.createUser(user, maxUsersInAccount: quotas.usersPerAccount) }
            state.withLock { $0.snapshot.putUser(user) }
        }
        return user
    }

    func deleteUser(accountID: String, name: String) async throws {
        try await serially {
            try await commit(in: accountID) { try await index.deleteUser(accountID: accountID, name: name) }
            state.withLock { $0.snapshot.removeUser(accountID: accountID, name: name) }
        }
    }

    func createAccessKey(accountID: String, userName: String?) async throws -> NewKey {
        let pair = NewKey(
            accessKeyID: Self.randomString(16, Self.keyAlphabet, prefix: "AKIA"), secretKey: Self.randomString(40, Self.secretAlphabet),
            createdAt: Self.now())
        try await addKey(pair, accountID: accountID, userName: userName)
        return pair
    }

    /// Adds a key with a given id and secret (declared in a configuration file).
    func addAccessKey(id: String, secret: String, accountID: String, userName: String?) async throws {
        try await addKey(NewKey(accessKeyID: id, secretKey: secret, createdAt: Self.now()), accountID: accountID, userName: userName)
    }

    private func addKey(_ pair: NewKey, accountID: String, userName: String?) async throws {
        let key = AccessKey(
            id: pair.accessKeyID, accountID: accountID, userName: userName,
            sealedSecret: masterKey.seal(secret: pair.secretKey, accessKeyID: pair.accessKeyID), createdAt: pair.createdAt)
        try await serially {
            try await commit(in: accountID) { try await index.createAccessKey(key) }
            state.withLock { state in
                state.snapshot.putKey(id: key.id, .init(secret: pair.secretKey, accountID: accountID, userName: userName, isActive: true))
            }
        }
    }

    /// Gives an existing key a new secret, unless it already has that one.
    func setSecret(_ secret: String, accessKeyID id: String) async throws {
        try await serially {
            let current = state.withLock { $0.snapshot.keys[id] }
            if current?.secret == secret { return }
            let sealed = masterKey.seal(secret: secret, accessKeyID: id)
            try await commit(in: current?.accountID) { try await index.resealAccessKeySecrets([id: sealed]) }
            if current != nil {
                state.withLock { $0.snapshot.setSecret(secret, id: id) }
            } else if let key = try await index.accessKey(id: id) {
                // A key whose old secret did not open is not in the snapshot: its account is read again.
                try await loadAccount(key.accountID)
            }
        }
    }

    func setAccessKeyActive(_ active: Bool, id: String, accountID: String, userName: String?) async throws {
        try await serially {
            try await commit(in: accountID) {
                try await index.setAccessKeyActive(active, id: id, accountID: accountID, userName: userName)
            }
            state.withLock { $0.snapshot.setKeyActive(active, id: id) }
        }
    }

    func deleteAccessKey(id: String, accountID: String, userName: String?) async throws {
        try await serially {
            try await commit(in: accountID) { try await index.deleteAccessKey(id: id, accountID: accountID, userName: userName) }
            state.withLock { $0.snapshot.removeKey(id: id) }
        }
    }

    /// Creates or replaces a user's inline policy. With `sizeLimit`, refuses with
    /// ``IdentityError/limitExceeded(_:)`` a policy that would take the user's policies past that many characters
    /// (whitespace aside); the check and the write are one step, so two policies put at once cannot both fit.
    func putUserPolicy(accountID: String, userName: String, policyName: String, document: String, sizeLimit: Int? = nil) async throws {
        let stored = IdentitySnapshot.storedPolicy(document)
        try await serially {
            if let sizeLimit, let user = state.withLock({ $0.snapshot.user(accountID: accountID, name: userName) }) {
                let others = user.policies.filter { $0.key != policyName }.values.reduce(0) { $0 + $1.size }
                let size = stored?.size ?? PolicyDocument.compactSize(Array(document.utf8))
                if others + size > sizeLimit {
                    throw IdentityError.limitExceeded("Maximum policy size of \(sizeLimit) bytes exceeded for user \(user.user.name)")
                }
            }
            try await commit(in: accountID) {
                try await index.putUserPolicy(accountID: accountID, userName: userName, policyName: policyName, document: document)
            }
            state.withLock { state in
                if let stored {
                    state.snapshot.putPolicy(accountID: accountID, userName: userName, name: policyName, stored)
                } else {
                    // Policies are validated before they are put; one that does not parse grants nothing, as on loading.
                    state.snapshot.removePolicy(accountID: accountID, userName: userName, name: policyName)
                }
            }
        }
    }

    func deleteUserPolicy(accountID: String, userName: String, policyName: String) async throws {
        try await serially {
            try await commit(in: accountID) {
                try await index.deleteUserPolicy(accountID: accountID, userName: userName, policyName: policyName)
            }
            state.withLock { $0.snapshot.removePolicy(accountID: accountID, userName: userName, name: policyName) }
        }
    }

    // MARK: One change at a time

    /// Runs `body` when no other change runs, after reading again any account a failed change left stale.
    private func serially<T>(_ body: () async throws -> T) async throws -> T {
        try await changes.run {
            for accountID in state.withLock({ $0.stale }) { try await loadAccount(accountID) }
            return try await body()
        }
    }

    /// Runs the index write of a change in `accountID` (nil: not known). The index refuses a change with an
    /// ``IdentityError`` before committing anything; any other failure leaves unknown whether it committed, so the
    /// account's entries are read again from the index, which is the truth. If even that fails, the account's
    /// entries are dropped (its keys stop working rather than keep a right that may be gone) until the next change
    /// reads them.
    private func commit(in accountID: String?, _ write: () async throws -> Void) async throws {
        do {
            try await write()
        } catch let refusal as IdentityError {
            throw refusal
        } catch {
            do {
                if let accountID { try await loadAccount(accountID) } else { try await loadAll() }
            } catch {
                if let accountID {
                    state.withLock { state in
                        state.snapshot.removeAccount(id: accountID)
                        state.stale.insert(accountID)
                    }
                }
            }
            throw error
        }
    }
}
