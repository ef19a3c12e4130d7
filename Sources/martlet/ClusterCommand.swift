import ArgumentParser
import Foundation
import Logging
import PostgresIndex

/// `martlet admin cluster status`: the nodes of a PostgreSQL-indexed cluster and who does what.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster", abstract: "Several nodes over one PostgreSQL index: their state.",
        subcommands: [Status.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the nodes that have been seen (id, address, version, last heartbeat) and who holds each lease.")

        @Option(help: "The cluster's index, postgres://USER:PASSWORD@HOST:PORT/DATABASE (or MARTLET_INDEX).")
        var index: String?

        func run() async throws {
            guard let url = index ?? ProcessInfo.processInfo.environment["MARTLET_INDEX"] else {
                throw ValidationError("give the cluster's --index postgres://… (or set MARTLET_INDEX)")
            }
            var quiet = Logger(label: "martlet.admin")
            quiet.logLevel = .error
            let postgres = try PostgresIndex(url: url, maximumConnections: 1, logger: quiet)
            let pool = Task { await postgres.run() }
            defer { pool.cancel() }
            let (nodes, leases) = try await PostgresCluster.status(of: postgres)
            let now = Date()
            print("NODE".padding(20) + "ADDRESS".padding(24) + "VERSION".padding(14) + "LAST HEARTBEAT")
            for node in nodes {
                let age = max(0, now.timeIntervalSince(node.lastHeartbeat))
                print(node.id.padding(20) + node.address.padding(24) + node.version.padding(14)
                    + String(format: "%.1f s ago", age))
            }
            print("")
            print("LEASE".padding(20) + "HOLDER".padding(34) + "EXPIRES")
            for lease in leases {
                let left = lease.expiresAt.timeIntervalSince(now)
                print(lease.name.padding(20) + lease.holder.padding(34)
                    + (left >= 0 ? String(format: "in %.1f s", left) : "expired"))
            }
        }
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
