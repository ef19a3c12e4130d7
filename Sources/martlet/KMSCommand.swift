import ArgumentParser
import Foundation
import LocalStore
import ObjectStore
import S3API
import S3Auth

/// `martlet admin kms`: the built-in key service's keys, kept in the data folder's index (sealed under the master
/// key). Keys are rows in the index, so create-key and list-keys work on a running server's folder too. Each key
/// belongs to an account and has a key policy, as on AWS KMS.
struct KMSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kms", abstract: "Keys for encryption at rest: create-key, list-keys (SSE-KMS), rotate (the master key).",
        subcommands: [CreateKey.self, ListKeys.self, Rotate.self])

    /// The keyring of an index (its keys cannot be managed through --endpoint).
    static func keyring(_ target: AdminTarget, index: any AdminIndex) async throws -> Keyring {
        let masterKey = try await target.masterKey(for: index)
        guard let operatorAccount = try await index.accounts().first(where: \.isOperator) else {
            throw AdminFailure(description: "the index has no operator account yet: start the server once first")
        }
        return Keyring(masterKey: masterKey, keys: index, region: target.region, accountID: operatorAccount.id)
    }

    /// The account `--account` names, by its 12-digit id or its name; the operator's when it names none.
    static func account(_ named: String?, index: any IdentityIndex, keyring: Keyring) async throws -> String {
        guard let named else { return keyring.operatorAccountID }
        if let account = try await index.account(id: named) { return account.id }
        if let account = try await index.account(named: named) { return account.id }
        throw AdminFailure(description: "no account \(named)")
    }

    struct CreateKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a key; prints its ARN.",
            discussion: """
                The key belongs to the account --account names (the operator's by default). Without --policy it gets \
                AWS's default key policy: the account's root may use it, and the account's IAM users whose own \
                policies allow kms:GenerateDataKey / kms:Decrypt on its ARN. A policy naming another account \
                ("Principal": {"AWS": "arn:aws:iam::ACCOUNT:root"}) lets that account use the key by its ARN.
                """)
        @OptionGroup var target: AdminTarget
        @Option(help: "An alias, used as alias/NAME (unique within the account; aws/ is reserved).") var alias: String?
        @Option(help: "What the key is for.") var description = ""
        @Option(help: "The owning account's 12-digit id or name (default: the operator's account).") var account: String?
        @Option(help: "A file holding the key policy (JSON); default: AWS's default key policy.") var policy: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let alias = alias.map { $0.hasPrefix("alias/") ? String($0.dropFirst(6)) : $0 }
            if let alias, alias.isEmpty || alias.hasPrefix("aws/") {
                throw ValidationError("an alias must have a name, and aliases beginning with aws/ are AWS's own")
            }
            let policyText = try policy.map { path in
                do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
                    throw AdminFailure(description: "cannot read the key policy \(path): \(error.localizedDescription)")
                }
            }
            try await target.withIndex(for: "kms commands") { index in
                let keyring = try await KMSCommand.keyring(target, index: index)
                let owner = try await KMSCommand.account(account, index: index, keyring: keyring)
                let key: KMSKey
                do {
                    key = try await keyring.createKey(alias: alias, description: description, accountID: owner, policy: policyText)
                } catch StoreError.keyAlreadyExists {
                    throw AdminFailure(description: "the account has a key with the alias \(alias ?? "")")
                } catch let error as MalformedPolicy {
                    throw AdminFailure(description: "the key policy cannot be used: \(error.message)")
                }
                try KMSCommand.show([KeyDescription(key, keyring: keyring)], json: json)
            }
        }
    }

    struct ListKeys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the keys, with the account that owns each.")
        @OptionGroup var target: AdminTarget
        @Option(help: "Only this account's keys (12-digit id or name).") var account: String?
        @Flag(help: "Print JSON (with each key's policy).") var json = false

        func run() async throws {
            try await target.withIndex(for: "kms commands") { index in
                let keyring = try await KMSCommand.keyring(target, index: index)
                var owner: String?
                if let account { owner = try await KMSCommand.account(account, index: index, keyring: keyring) }
                let keys = try await keyring.listKeys().filter { owner == nil || $0.accountID == owner }
                try KMSCommand.show(keys.map { KeyDescription($0, keyring: keyring) }, json: json)
            }
        }
    }

    struct KeyDescription: Encodable {
        var keyId: String
        var arn: String
        var account: String
        var alias: String?
        var description: String
        var created: Date
        var enabled: Bool
        var policy: String

        init(_ key: KMSKey, keyring: Keyring) {
            keyId = key.id
            arn = keyring.arn(of: key)
            account = key.accountID
            alias = key.alias.map { "alias/" + $0 }
            description = key.description
            created = key.created
            enabled = key.enabled
            policy = key.policy
        }
    }

    static func show(_ keys: [KeyDescription], json: Bool) throws {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.dateEncodingStrategy = .iso8601
            print(String(decoding: try encoder.encode(keys), as: UTF8.self))
            return
        }
        for key in keys {
            print([key.arn, key.account, key.alias ?? "-", key.enabled ? "enabled" : "disabled", key.description].joined(separator: "\t"))
        }
    }
}
