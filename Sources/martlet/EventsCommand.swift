import ArgumentParser
import Foundation
import LocalStore
import ObjectStore

/// `martlet admin events`: the notification outbox's dead-letter list. The outbox is rows of the index, so
/// these work on a running server's data folder, or a cluster's index (`--index`) with its nodes running; the
/// server (or the node delivering events) picks retried events up within a second.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "Notification events: list (--failed for dead letters) and retry.",
        subcommands: [List.self, Retry.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List events waiting for delivery, or with --failed the dead-lettered ones.")
        @OptionGroup var target: AdminTarget
        @Flag(help: "List the dead-letter list.") var failed = false
        @Option(help: "At most this many.") var limit = 1000
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let entries = try await target.withIndex(for: "events commands") { index in
                failed ? try await index.failedEvents(limit: limit) : try await index.pendingEvents(limit: limit)
            }
            if json {
                let rows = entries.map { entry in
                    EventRow(
                        sequencer: entry.sequencer, target: entry.targetARN, event: entry.event.eventName, bucket: entry.event.bucket,
                        key: entry.event.key, versionId: entry.event.versionID,
                        time: entry.event.eventTime.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)),
                        attempts: entry.attempts, lastError: entry.lastError)
                }
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(rows), as: UTF8.self))
                return
            }
            for entry in entries {
                print([entry.sequencer, entry.event.eventName, entry.event.bucket, entry.event.key, entry.targetARN,
                       "attempts=\(entry.attempts)", entry.lastError ?? ""].joined(separator: "\t"))
            }
            if entries.isEmpty { print(failed ? "no dead-lettered events" : "no events waiting") }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put dead-lettered events back in line: the ones named by sequencer, or --all.")
        @OptionGroup var target: AdminTarget
        @Flag(help: "Every dead-lettered event.") var all = false
        @Argument(help: "Sequencers, as `list --failed` prints them.") var sequencers: [String] = []

        func validate() throws {
            if all == !sequencers.isEmpty { throw ValidationError("name sequencers, or give --all") }
            for sequencer in sequencers where Int64(sequencer, radix: 16) == nil {
                throw ValidationError("\(sequencer) is not a sequencer")
            }
        }

        func run() async throws {
            let chosen = all ? nil : sequencers.compactMap { Int64($0, radix: 16) }
            let count = try await target.withIndex(for: "events commands") { try await $0.retryFailedEvents(chosen) }
            print("\(count) event(s) back in line for delivery")
        }
    }

    struct EventRow: Encodable {
        var sequencer: String
        var target: String
        var event: String
        var bucket: String
        var key: String
        var versionId: String?
        var time: String
        var attempts: Int
        var lastError: String?
    }
}
