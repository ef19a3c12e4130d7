import ArgumentParser
import Foundation
import LocalStore
import ObjectStore
import S3API

/// `martlet admin kms`: the built-in key service's keys, kept in the data folder's index (sealed under the master
/// key). Keys are rows in the index, so create-key and list-keys work on a running server's folder too.
struct KMSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kms", abstract: "Keys for encryption at rest: create-key, list-keys (SSE-KMS), rotate (the master key).",
        subcommands: [CreateKey.self, ListKeys.self, Rotate.self])

    /// The keyring of the data folder `--data` names (keys cannot be managed through --endpoint).
    static func keyring(_ target: AdminTarget) async throws -> Keyring {
        guard let data = target.data else { throw ValidationError("kms commands work on a data folder: give --data.") }
        guard FileManager.default.fileExists(atPath: data) else { throw AdminFailure(description: "no data folder at \(data)") }
        let index = try SQLiteIndex(path: URL(fileURLWithPath: data).appendingPathComponent("index.sqlite").path)
        return try await keyring(dataDirectory: data, index: index, region: target.region)
    }

    /// The keyring of a data folder whose index is open.
    static func keyring(dataDirectory data: String, index: SQLiteIndex, region: String) async throws -> Keyring {
        let masterKey = try MasterKey.load(dataDirectory: data)
        let directory = IdentityDirectory(index: index, masterKey: masterKey)
        guard let operatorAccount = try await directory.account(named: "martlet") else {
            throw AdminFailure(description: "the data folder has no operator account yet: start the server once first")
        }
        return Keyring(masterKey: masterKey, keys: index, region: region, accountID: operatorAccount.id)
    }

    struct CreateKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key; prints its ARN.")
        @OptionGroup var target: AdminTarget
        @Option(help: "An alias, used as alias/NAME.") var alias: String?
        @Option(help: "What the key is for.") var description = ""
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let keyring = try await KMSCommand.keyring(target)
            let key: KMSKey
            do {
                key = try await keyring.createKey(alias: alias.map { $0.hasPrefix("alias/") ? String($0.dropFirst(6)) : $0 }, description: description)
            } catch StoreError.keyAlreadyExists {
                throw AdminFailure(description: "a key with the alias \(alias ?? "") exists")
            }
            try KMSCommand.show([KeyDescription(key, keyring: keyring)], json: json)
        }
    }

    struct ListKeys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the keys.")
        @OptionGroup var target: AdminTarget
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let keyring = try await KMSCommand.keyring(target)
            try KMSCommand.show(try await keyring.listKeys().map { KeyDescription($0, keyring: keyring) }, json: json)
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace the master key, re-sealing what it sealed (no object is rewritten). The server must be stopped.")
        @OptionGroup var target: AdminTarget

        func run() async throws {
            guard let data = target.data else { throw ValidationError("rotate works on a stopped server's data folder: give --data.") }
            let lock = try DataFolderLock(dataDirectory: data, purpose: "stop it first: a running server keeps sealing under the old key")
            defer { lock.release() }
            let ring = try MasterKeyRotation.begin(dataDirectory: data)
            let index = try SQLiteIndex(path: URL(fileURLWithPath: data).appendingPathComponent("index.sqlite").path)
            let report = try await MasterKeyRotation.reseal(
                ring: ring, identities: index, keys: index, blobFiles: Self.blobFiles(in: data))
            if ProcessInfo.processInfo.environment["MARTLET_MASTER_KEY"] == nil {
                try MasterKeyRotation.finish(ring: ring, dataDirectory: data)
                print("rotated the master key in \(data)/master.key")
            } else {
                print("re-sealed under the first key of MARTLET_MASTER_KEY; the others can be removed from it now")
            }
            print("re-sealed: \(report.accessKeys) access key secrets, \(report.kmsKeys) KMS keys, \(report.blobs) SSE-S3 blob envelopes")
        }

        static func blobFiles(in data: String) -> [String] {
            let root = URL(fileURLWithPath: data).appendingPathComponent("blobs")
            guard let walk = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
            return walk.compactMap { item in
                guard let url = item as? URL, (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { return nil }
                return url.path
            }
        }
    }

    struct KeyDescription: Encodable {
        var keyId: String
        var arn: String
        var alias: String?
        var description: String
        var created: Date
        var enabled: Bool

        init(_ key: KMSKey, keyring: Keyring) {
            keyId = key.id
            arn = keyring.arn(of: key)
            alias = key.alias.map { "alias/" + $0 }
            description = key.description
            created = key.created
            enabled = key.enabled
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
        for key in keys { print([key.arn, key.alias ?? "-", key.enabled ? "enabled" : "disabled", key.description].joined(separator: "\t")) }
    }
}
