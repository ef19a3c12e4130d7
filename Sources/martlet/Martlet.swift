import ArgumentParser

@main
struct Martlet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "martlet",
        abstract: "A self-hosted, S3-compatible object storage server.",
        subcommands: [ServerCommand.self, AdminCommand.self],
        defaultSubcommand: ServerCommand.self
    )
}
