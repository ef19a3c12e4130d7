import Foundation
import Logging
import Metrics
import ObjectStore
import ServiceLifecycle

/// How the delivery service retries.
public struct DeliveryPolicy: Sendable {
    /// The first retry waits up to this long; each further one doubles it, up to `maxBackoff`.
    public var initialBackoff: Double = 0.5
    public var maxBackoff: Double = 60
    /// An event still failing this long after it was recorded moves to the dead-letter list.
    public var maxAge: Double = 24 * 3600
    /// Events about different keys go out on this many lanes at once per target; events about one key share a
    /// lane, so they arrive in order.
    public var lanes = 8

    public init() {}

    /// Full jitter: a random wait up to the exponential bound, so targets that come back are not hit by every
    /// retry at once.
    func backoff(afterAttempts attempts: Int) -> Double {
        let bound = min(maxBackoff, initialBackoff * pow(2, Double(min(attempts - 1, 30))))
        return Double.random(in: (bound / 2)...bound)
    }
}

/// Sends the outbox to its targets: at least once, in order per key, retried with backoff, dead-lettered
/// past an age. Runs beside the server and never in a request's path: a slow or failing target delays its own
/// events only. Delivered events are deleted in one transaction per round; a crash before that sends them again,
/// which at-least-once allows.
public struct DeliveryService: Service {
    let index: any NotificationIndex
    let targets: [String: any EventTarget]
    let region: String
    let policy: DeliveryPolicy
    let logger: Logger
    /// Entries read per round.
    let batchSize = 1000

    public init(index: any NotificationIndex, targets: [TargetSpec], region: String, policy: DeliveryPolicy, logger: Logger) throws {
        var made: [String: any EventTarget] = [:]
        for spec in targets {
            switch spec.kind {
            case .webhook: made[spec.arn(region: region)] = try WebhookTarget(spec: spec)
            case .redis: made[spec.arn(region: region)] = try RedisStreamTarget(spec: spec)
            }
        }
        self.index = index
        self.targets = made
        self.region = region
        self.policy = policy
        self.logger = logger
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    let wait: Duration
                    do {
                        wait = try await round(now: Date())
                    } catch let error where !(error is CancellationError) {
                        logger.error("notification delivery round failed: \(error)")
                        wait = .seconds(1)
                    }
                    if wait > .zero { await index.eventSignal.wait(timeout: wait) }
                    try Task.checkCancellation()
                }
            }
        } catch is CancellationError {}
    }

    /// Closes the targets' connections, once the service will not run again: in a cluster, `run` may stop when the
    /// node loses the delivery lease and start again when it takes the lease back, or never run on this node at all.
    public func shutdown() async {
        for target in targets.values { await target.shutdown() }
    }

    /// One round: every lane with a due head sends what it can; returns how long to wait before the next.
    func round(now: Date) async throws -> Duration {
        let entries = try await index.pendingEvents(limit: batchSize)
        if entries.isEmpty { return .seconds(1) }
        var lanes: [LaneKey: [OutboxEntry]] = [:]
        var order: [LaneKey] = []
        var earliest = now.addingTimeInterval(1)
        for entry in entries {
            let lane = LaneKey(target: entry.targetARN, lane: laneNumber(entry.event))
            if lanes[lane] == nil {
                // A lane whose oldest entry is waiting out a backoff sends nothing: what follows it may be
                // about the same key.
                if entry.nextAttempt > now {
                    earliest = min(earliest, entry.nextAttempt)
                    lanes[lane] = []
                    continue
                }
                order.append(lane)
                lanes[lane] = [entry]
            } else if !lanes[lane]!.isEmpty {
                lanes[lane]!.append(entry)
            }
        }
        let outcomes = await withTaskGroup(of: LaneOutcome.self) { group in
            for lane in order {
                let queue = lanes[lane]!
                group.addTask { await send(queue, now: now) }
            }
            var all: [LaneOutcome] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        let delivered = outcomes.flatMap(\.delivered)
        try await index.finishEvents(delivered)
        DeliveryMetrics.delivered.increment(by: Int64(delivered.count))
        for outcome in outcomes {
            guard let (entry, error) = outcome.failure else { continue }
            let attempts = entry.attempts + 1
            let dead = now.timeIntervalSince(entry.event.eventTime) >= policy.maxAge
            let next = now.addingTimeInterval(policy.backoff(afterAttempts: attempts))
            try await index.deferEvent(entry.sequence, attempts: attempts, nextAttempt: next, error: "\(error)", deadLetter: dead)
            DeliveryMetrics.failed.increment()
            if dead {
                DeliveryMetrics.deadLettered.increment()
                logger.warning("notification dead-lettered", metadata: [
                    "target": "\(entry.targetARN)", "sequencer": "\(entry.sequencer)", "error": "\(error)"])
            } else {
                logger.info("notification delivery failed, will retry", metadata: [
                    "target": "\(entry.targetARN)", "attempts": "\(attempts)", "error": "\(error)"])
                earliest = min(earliest, next)
            }
        }
        // Go on at once only after progress: a full page of entries all waiting out their backoff (a receiver
        // down with more than a page queued) must wait for the earliest retry, not read the page again at once.
        if !delivered.isEmpty { return .zero }
        return .milliseconds(max(10, Int64(earliest.timeIntervalSince(Date()) * 1000)))
    }

    /// Sends a lane's entries in order, stopping at the first failure.
    private func send(_ queue: [OutboxEntry], now: Date) async -> LaneOutcome {
        var outcome = LaneOutcome()
        for entry in queue {
            do {
                guard let target = targets[entry.targetARN] else {
                    throw TargetError("no target \(entry.targetARN) is configured on this server")
                }
                try await target.deliver(try EventJSON.message(for: entry, region: region), sequencer: entry.sequencer)
                outcome.delivered.append(entry.sequence)
            } catch {
                outcome.failure = (entry, error)
                break
            }
        }
        return outcome
    }

    private func laneNumber(_ event: StoredEvent) -> Int {
        var hasher = Hasher()
        hasher.combine(event.bucket)
        hasher.combine(event.key)
        return Int(UInt(bitPattern: hasher.finalize()) % UInt(max(1, policy.lanes)))
    }

    private struct LaneKey: Hashable {
        var target: String
        var lane: Int
    }

    private struct LaneOutcome: Sendable {
        var delivered: [Int64] = []
        var failure: (OutboxEntry, any Error)?
    }
}

/// `martlet_notification_deliveries_total{outcome}`.
enum DeliveryMetrics {
    static let delivered = Counter(label: "martlet_notification_deliveries_total", dimensions: [("outcome", "delivered")])
    static let failed = Counter(label: "martlet_notification_deliveries_total", dimensions: [("outcome", "failed")])
    static let deadLettered = Counter(label: "martlet_notification_deliveries_total", dimensions: [("outcome", "dead_lettered")])
}
