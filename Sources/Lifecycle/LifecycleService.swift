import Foundation
import Logging
import Metrics
import ObjectStore
import ServiceLifecycle

/// Runs buckets' lifecycle rules for real: expires current objects, deletes noncurrent versions and lone
/// delete markers, and aborts stale multipart uploads.
///
/// Work is found through the index's queue of keys by due time, so a pass with nothing due is one seek
/// however many objects there are; each key is evaluated against its whole (bounded) history and queued again
/// for its next due time. The queue is in the index, so it survives restarts. Uploads are found by initiation
/// time, also one seek per bucket with an abort rule.
public struct LifecycleService: Service {
    let storage: Storage
    let clock: LifecycleClock
    let interval: Duration
    let logger: Logger
    /// Entries handled per index read, bounding memory.
    let batchSize = 500

    /// - Parameter daySeconds: Seconds in a lifecycle day; passes run every `min(daySeconds / 4, 60)` seconds
    ///   (at least every quarter second), so a shortened day is honoured promptly.
    public init(storage: Storage, daySeconds: Int, logger: Logger) {
        self.storage = storage
        self.clock = LifecycleClock(daySeconds: daySeconds)
        self.interval = .milliseconds(max(250, min(daySeconds * 250, 60_000)))
        self.logger = logger
    }

    public func run() async throws {
        // A graceful shutdown cancels the loop, mid-sleep or mid-pass; every step of a pass is its own transaction.
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    do {
                        let started = ContinuousClock.now
                        // Changes made here are `s3:LifecycleExpiration:` events, by S3 itself.
                        let evaluated = try await ChangeOrigin.$current.withValue(.lifecycle) { try await runPass(now: Date()) }
                        let elapsed = (ContinuousClock.now - started).components
                        let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
                        logger.debug("lifecycle pass", metadata: ["evaluated": "\(evaluated)", "seconds": "\(seconds)"])
                    } catch let error where !(error is CancellationError) {
                        logger.error("lifecycle pass failed: \(error)")
                    }
                    try await Task.sleep(for: interval)
                }
            }
        } catch is CancellationError {
            return
        }
    }

    /// One pass: every queued key that is due, then every bucket's stale uploads.
    /// - Returns: How many keys it evaluated.
    @discardableResult
    public func runPass(now: Date) async throws -> Int {
        var configurations: [String: LifecycleConfiguration] = [:]
        for (bucket, configuration) in try await storage.index.bucketsWithLifecycle() {
            configurations[bucket] = configuration
        }
        var evaluated = 0
        while true {
            let entries = try await storage.index.dueLifecycleEntries(before: now, limit: batchSize)
            for entry in entries {
                try Task.checkCancellation()
                let next: Date?
                do {
                    next = try await apply(entry, configuration: configurations[entry.bucket], now: now)
                } catch let error where !(error is CancellationError) {
                    // One failing key must not hold up the queue behind it: try it again in a minute.
                    logger.error("lifecycle failed on a key", metadata: ["bucket": "\(entry.bucket)", "key": "\(entry.key)", "error": "\(error)"])
                    next = now.addingTimeInterval(60)
                }
                try await storage.index.finishLifecycleEntry(entry, next: next)
                evaluated += 1
            }
            if entries.count < batchSize { break }
        }
        for (bucket, configuration) in configurations {
            try await abortStaleUploads(bucket: bucket, configuration: configuration, now: now)
        }
        return evaluated
    }

    /// Applies the rules to one key; returns when to look at it again.
    private func apply(_ entry: LifecycleEntry, configuration: LifecycleConfiguration?, now: Date) async throws -> Date? {
        guard let configuration else { return nil }
        let history: (versioned: Bool, versions: [ObjectRecord])
        do {
            history = try await storage.index.history(bucket: entry.bucket, key: entry.key)
        } catch StoreError.noSuchBucket {
            return nil
        }
        let decision = configuration.evaluate(history: history.versions, versioned: history.versioned, now: now, clock: clock)
        if decision.expireCurrent, let current = history.versions.first {
            try await storage.expireCurrent(bucket: entry.bucket, key: entry.key, expected: current)
            Self.actions.expiration.increment()
            logger.debug("lifecycle expired", metadata: ["bucket": "\(entry.bucket)", "key": "\(entry.key)"])
        }
        for transition in decision.transitions where !decision.expireCurrent || transition.versionID != history.versions.first?.versionID {
            try await storage.index.setStorageClass(
                transition.storageClass, bucket: entry.bucket, key: entry.key, versionID: transition.versionID)
            Self.actions.transition.increment()
        }
        for version in decision.deleteVersions {
            do {
                try await storage.deleteVersion(bucket: entry.bucket, key: entry.key, versionID: version)
            } catch StoreError.objectLocked {
                // Locked since the evaluation; that change queued the key again.
                continue
            }
            Self.actions.versionDeletion.increment()
            logger.debug("lifecycle deleted version", metadata: ["bucket": "\(entry.bucket)", "key": "\(entry.key)", "version": "\(version)"])
        }
        // Writes above queue the key again at once, so whatever they made noncurrent is evaluated next pass.
        return decision.next
    }

    private func abortStaleUploads(bucket: String, configuration: LifecycleConfiguration, now: Date) async throws {
        for rule in configuration.abortRules {
            // Due uploads were initiated at least `days` lifecycle days ago (rounding only makes them later).
            let cutoff = now.addingTimeInterval(-Double(rule.days) * Double(clock.daySeconds))
            for upload in try await storage.index.uploads(bucket: bucket, initiatedBefore: cutoff, limit: batchSize)
            where rule.filter.matches(key: upload.key, size: 0, tags: upload.metadata.tags ?? [])
                && clock.due(after: upload.initiated, days: rule.days) <= now {
                do {
                    try await storage.abortUpload(bucket: bucket, key: upload.key, uploadID: upload.uploadID)
                    Self.actions.uploadAbort.increment()
                    logger.debug("lifecycle aborted upload", metadata: ["bucket": "\(bucket)", "upload": "\(upload.uploadID)"])
                } catch StoreError.noSuchUpload {
                    continue
                }
            }
        }
    }
}

extension LifecycleService {
    /// `martlet_lifecycle_actions_total{action}`: what the rules did.
    struct Actions: Sendable {
        let expiration = Counter(label: "martlet_lifecycle_actions_total", dimensions: [("action", "expire_current")])
        let transition = Counter(label: "martlet_lifecycle_actions_total", dimensions: [("action", "transition")])
        let versionDeletion = Counter(label: "martlet_lifecycle_actions_total", dimensions: [("action", "delete_version")])
        let uploadAbort = Counter(label: "martlet_lifecycle_actions_total", dimensions: [("action", "abort_upload")])
    }

    /// Made when first used, after the executable has bootstrapped the metrics system.
    static let actions = Actions()
}
