import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LocalStore
import ObjectStore
import S3API
import S3Auth

/// `martlet admin`: the operator's account management, against a running server (signed with the operator's
/// keys) or, with `--data`, directly on a stopped server's data folder.
struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin",
        abstract: "Manage a running server (--endpoint), a stopped server's data folder (--data), or a cluster (--index postgres://…, with --data its shared folder).",
        subcommands: [AccountCommand.self, KMSCommand.self, EventsCommand.self, CheckCommand.self, ImportCommand.self, ExportCommand.self, ClusterCommand.self, MigrateIndexCommand.self]
    )

    // Declared here as well as in each leaf, so that `martlet admin --endpoint URL account list` parses.
    @OptionGroup var target: AdminTarget
}

struct AccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account", abstract: "Accounts: add, list, info, disable, enable, remove.",
        subcommands: [Add.self, List.self, Info.self, Disable.self, Enable.self, Remove.self])

    @OptionGroup var target: AdminTarget

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an account; its root keys are printed once.")
        @OptionGroup var target: AdminTarget
        @Argument var name: String
        @Option var accessKey: String?
        @Option var secretKey: String?
        @Option var displayName: String?
        @Option var email: String?
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            if (accessKey == nil) != (secretKey == nil) { throw ValidationError("--access-key and --secret-key go together.") }
        }

        func run() async throws {
            let request = AdminAccountRequest(
                name: name, displayName: displayName, email: email, accessKey: accessKey, secretKey: secretKey)
            let account = try await target.withClient { try await $0.add(request) }
            try show(account, json: json)
        }
    }

    struct List: AsyncParsableCommand {
        @OptionGroup var target: AdminTarget
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let accounts = try await target.withClient { try await $0.list() }
            if json { return try printJSON(accounts) }
            for account in accounts {
                print("\(account.name)\t\(account.accountId)\t\(account.disabled ? "disabled" : "enabled")\(account.operator ? "\toperator" : "")")
            }
        }
    }

    struct Info: AsyncParsableCommand {
        @OptionGroup var target: AdminTarget
        @Argument var name: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws { try show(try await target.withClient { try await $0.info(name) }, json: json) }
    }

    struct Disable: AsyncParsableCommand {
        @OptionGroup var target: AdminTarget
        @Argument var name: String
        func run() async throws { try show(try await target.withClient { try await $0.setDisabled(true, name: name) }, json: false) }
    }

    struct Enable: AsyncParsableCommand {
        @OptionGroup var target: AdminTarget
        @Argument var name: String
        func run() async throws { try show(try await target.withClient { try await $0.setDisabled(false, name: name) }, json: false) }
    }

    struct Remove: AsyncParsableCommand {
        @OptionGroup var target: AdminTarget
        @Argument var name: String
        func run() async throws {
            try await target.withClient { try await $0.remove(name) }
            print("removed \(name)")
        }
    }
}

private func show(_ account: AdminAccount, json: Bool) throws {
    if json { return try printJSON(account) }
    var lines = [
        "name:           \(account.name)",
        "account id:     \(account.accountId)",
        "canonical id:   \(account.canonicalId)",
        "display name:   \(account.displayName)",
        "arn:            \(account.arn)",
        "status:         \(account.disabled ? "disabled" : "enabled")\(account.operator ? " (operator)" : "")",
    ]
    if let email = account.email { lines.append("email:          \(email)") }
    for key in account.accessKeys { lines.append("access key:     \(key.accessKeyId) (\(key.status))") }
    if let secret = account.secretAccessKey { lines.append("secret key:     \(secret)   (shown once)") }
    print(lines.joined(separator: "\n"))
}

private func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

protocol AdminClient {
    func add(_ request: AdminAccountRequest) async throws -> AdminAccount
    func list() async throws -> [AdminAccount]
    func info(_ name: String) async throws -> AdminAccount
    func setDisabled(_ disabled: Bool, name: String) async throws -> AdminAccount
    func remove(_ name: String) async throws
}

struct AdminFailure: Error, CustomStringConvertible {
    var description: String
}
