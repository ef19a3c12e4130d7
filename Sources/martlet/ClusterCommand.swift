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

        // The admin commands' own --index (declared once for all of them, so `martlet admin --index URL cluster
        // status` parses too).
        @OptionGroup var target: AdminTarget

        func run() async throws {
            let (nodes, leases) = try await target.withCluster { try await PostgresCluster.status(of: $0) }
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
