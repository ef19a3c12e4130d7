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
        abstract: "Manage accounts on a running server (--endpoint) or in a stopped server's data folder (--data).",
        subcommands: [AccountCommand.self, KMSCommand.self, EventsCommand.self, CheckCommand.self, ImportCommand.self, ExportCommand.self, ClusterCommand.self, MigrateIndexCommand.self]
    )

    // Declared here as well as in each leaf, so that `martlet admin --endpoint URL account list` parses.
    @OptionGroup var target: AdminTarget
}

struct AdminTarget: ParsableArguments {
    @Option(help: "A running server's URL, e.g. http://127.0.0.1:9000 (signed with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or MARTLET_ACCESS_KEY/MARTLET_SECRET_KEY).")
    var endpoint: String?

    @Option(help: "A stopped server's data folder, changed directly.")
    var data: String?

    @Option(help: "The region the server serves (for signing).")
    var region = "us-east-1"

    /// Neither is fine here (`admin cluster` takes --index instead); the commands that need one ask in ``client()``.
    func validate() throws {
        if endpoint != nil && data != nil { throw ValidationError("Give exactly one of --endpoint and --data.") }
    }

    func client() throws -> any AdminClient {
        if let data { return try LocalAdminClient(dataDirectory: data) }
        guard endpoint != nil else { throw ValidationError("Give exactly one of --endpoint and --data.") }
        let environment = ProcessInfo.processInfo.environment
        guard let accessKey = environment["MARTLET_ACCESS_KEY"] ?? environment["AWS_ACCESS_KEY_ID"],
              let secretKey = environment["MARTLET_SECRET_KEY"] ?? environment["AWS_SECRET_ACCESS_KEY"],
              let url = URL(string: endpoint!)
        else {
            throw ValidationError("--endpoint needs a URL and the operator's keys in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.")
        }
        return RemoteAdminClient(endpoint: url, signer: SigV4Signer(accessKey: accessKey, secretKey: secretKey, region: region))
    }
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
            let account = try await target.client().add(AdminAccountRequest(
                name: name, displayName: displayName, email: email, accessKey: accessKey, secretKey: secretKey))
            try show(account, json: json)
        }
    }

    struct List: AsyncParsableCommand {
        @OptionGroup var target: AdminTarget
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let accounts = try await target.client().list()
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

        func run() async throws { try show(try await target.client().info(name), json: json) }
    }

    struct Disable: AsyncParsableCommand {
        @OptionGroup var target: AdminTarget
        @Argument var name: String
        func run() async throws { try show(try await target.client().setDisabled(true, name: name), json: false) }
    }

    struct Enable: AsyncParsableCommand {
        @OptionGroup var target: AdminTarget
        @Argument var name: String
        func run() async throws { try show(try await target.client().setDisabled(false, name: name), json: false) }
    }

    struct Remove: AsyncParsableCommand {
        @OptionGroup var target: AdminTarget
        @Argument var name: String
        func run() async throws {
            try await target.client().remove(name)
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
