import Foundation
import HTTPTypes
import HummingbirdCore
import Logging
import Metrics
import NIOCore
import ObjectStore
import Prometheus
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What the server counts per request, through swift-metrics: the executable bootstraps the Prometheus backend,
/// and a server without one (a test's) counts into swift-metrics' no-op handlers.
final class RequestMetrics: Sendable {
    private struct Key: Hashable {
        var operation: String
        var statusClass: String
    }

    private static let statusClasses = ["0xx", "1xx", "2xx", "3xx", "4xx", "5xx"]
    private let requests = Mutex<[Key: Metrics.Counter]>([:])
    private let durations = Mutex<[String: Metrics.Timer]>([:])
    private let received = Metrics.Counter(label: "martlet_received_bytes_total")
    private let sent = Metrics.Counter(label: "martlet_sent_bytes_total")
    let openConnections = Metrics.Meter(label: "martlet_open_connections")

    /// One answered request: its operation, status, time from head to the end of the response, and body sizes.
    func record(operation: String, status: Int, duration: Duration, bytesIn: Int64, bytesOut: Int64) {
        let key = Key(operation: operation, statusClass: Self.statusClasses[min(max(status / 100, 0), 5)])
        let counter = requests.withLock { counters in
            if let known = counters[key] { return known }
            let made = Metrics.Counter(label: "martlet_requests_total", dimensions: [("operation", key.operation), ("status", key.statusClass)])
            counters[key] = made
            return made
        }
        counter.increment()
        let timer = durations.withLock { timers in
            if let known = timers[operation] { return known }
            let made = Metrics.Timer(label: "martlet_request_duration_seconds", dimensions: [("operation", operation)], preferredDisplayUnit: .seconds)
            timers[operation] = made
            return made
        }
        timer.record(duration: duration)
        if bytesIn > 0 { received.increment(by: bytesIn) }
        if bytesOut > 0 { sent.increment(by: bytesOut) }
    }
}

/// `/_martlet/health/live`, `/_martlet/health/ready` and `/_martlet/metrics`: on the S3 port, under a path no
/// bucket can take (`_` is not allowed in bucket names), answered before any S3 parsing.
extension S3Server {
    static let healthPrefix = "/_martlet/health/"
    static let metricsPath = "/_martlet/metrics"

    /// The answer to a health or metrics request, or nil for any other request. A metrics request that neither
    /// carries the bearer token nor is public goes on as an ordinary request: signed by the operator, the admin
    /// handler answers it; anyone else is refused by the authorizer.
    func observability(_ request: Request) async -> S3Response? {
        // Every request passes here: anything outside /_martlet/ leaves after one prefix check.
        guard let raw = request.head.path, raw.hasPrefix("/_martlet/") else { return nil }
        let path = raw.split(separator: "?", maxSplits: 1).first ?? Substring(raw)
        if path.hasPrefix(Self.healthPrefix), request.method == .get || request.method == .head {
            switch path.dropFirst(Self.healthPrefix.count) {
            case "live": return healthResponse(["status": "ok"], healthy: true)
            case "ready":
                let problems = await readinessProblems()
                return healthResponse(problems.isEmpty ? ["status": "ok"] : ["status": "unavailable", "problems": problems.joined(separator: "; ")],
                                      healthy: problems.isEmpty)
            default: return nil
            }
        }
        if path == Self.metricsPath, request.method == .get {
            let bearer = request.headers[.authorization].map { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : "" }
            if configuration.metricsPublic || Self.sameSecret(bearer, configuration.metricsToken) {
                return await metricsResponse()
            }
        }
        return nil
    }

    /// Whether a token sent matches the configured one, compared in constant time (it is a secret).
    static func sameSecret(_ sent: String?, _ expected: String?) -> Bool {
        guard let sent, let expected, !expected.isEmpty else { return false }
        let (a, b) = (Array(sent.utf8), Array(expected.utf8))
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    func metricsResponse() async -> S3Response {
        finish(await handlers.metricsExposition(), requestID: RequestID.make())
    }

    private func healthResponse(_ fields: [String: String], healthy: Bool) -> S3Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        let body = (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])) ?? Data()
        var response = S3Response.bytes(Array(body), headers: headers)
        if !healthy { response.status = .serviceUnavailable }
        return finish(response, requestID: RequestID.make())
    }

    /// Why the server cannot take requests now: the index does not answer, the data folder is not writable, or
    /// its disk is (nearly) full. Each check is one cheap call.
    /// Whether a lookup in the index completes in time: a database that cannot be reached may keep a query waiting
    /// for a connection far longer than a load balancer's health check waits.
    private func indexAnswers(within limit: Duration) async -> Bool {
        let index = storage.index
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                do {
                    _ = try await index.bucket(named: "_martlet")
                    return true
                } catch {
                    return false
                }
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    func readinessProblems() async -> [String] {
        var problems: [String] = []
        if await !indexAnswers(within: .seconds(2)) { problems.append("the index does not answer") }
        guard let directory = configuration.dataDirectory else { return problems }
        // A probe file in tmp/ (where uploads start): catches a read-only mount, which permissions alone would
        // not show to a root process.
        let probe = URL(fileURLWithPath: directory).appendingPathComponent("tmp/.ready-\(RequestID.make())").path
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd >= 0 {
            close(fd)
            unlink(probe)
        } else {
            problems.append("the data folder is not writable (\(String(cString: strerror(errno))))")
        }
        var stats = statvfs()
        if statvfs(directory, &stats) == 0 {
            let free = UInt64(stats.f_bavail) * UInt64(stats.f_frsize)
            if free < Self.minimumFreeBytes { problems.append("the disk has \(free) bytes free") }
        }
        return problems
    }

    /// Below this the server is not ready: an upload would soon fail with 503.
    static let minimumFreeBytes: UInt64 = 64 << 20
}

extension S3Handlers {
    /// The Prometheus text exposition of everything counted, with the index's counters read at this moment.
    func metricsExposition() async -> S3Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        guard let registry = configuration.metricsRegistry else {
            return .bytes(Array("# metrics are not collected by this server\n".utf8), headers: headers)
        }
        await storageGauges.refresh(registry: registry, index: storage.index, logger: logger)
        return .bytes(registry.emitToBuffer(), headers: headers)
    }
}

/// Gauges of what the index holds, set from its counters at each scrape (one row per bucket, never a scan of
/// a bucket's objects). A deleted bucket's gauges are removed.
final class StorageGauges: Sendable {
    private let shownBuckets = Mutex<Set<String>>([])
    private static let objectsHelp = "Objects stored (every version counts)."
    private static let bytesHelp = "Bytes stored (every version counts)."

    func refresh(registry: PrometheusCollectorRegistry, index: any StorageIndex, logger: Logger) async {
        do {
            let usage = try await index.bucketUsage()
            let (pending, failed) = try await index.outboxDepth()
            var uploads: Int64 = 0
            for bucket in usage {
                let labels = [("bucket", bucket.bucket)]
                registry.makeGauge(name: "martlet_bucket_objects", labels: labels, help: Self.objectsHelp)
                    .set(Double(bucket.objects))
                registry.makeGauge(name: "martlet_bucket_bytes", labels: labels, help: Self.bytesHelp)
                    .set(Double(bucket.bytes))
                uploads += bucket.uploads
            }
            registry.makeGauge(name: "martlet_multipart_uploads_in_progress", help: "Multipart uploads begun and not completed or aborted.")
                .set(Double(uploads))
            registry.makeGauge(name: "martlet_notification_outbox_depth", help: "Events waiting for delivery.").set(Double(pending))
            registry.makeGauge(name: "martlet_notification_dead_letters", help: "Events that failed past their age.").set(Double(failed))
            let current = Set(usage.map(\.bucket))
            let gone = shownBuckets.withLock { shown in
                let gone = shown.subtracting(current)
                shown = current
                return gone
            }
            for bucket in gone {
                let labels = [("bucket", bucket)]
                registry.unregisterGauge(registry.makeGauge(name: "martlet_bucket_objects", labels: labels, help: Self.objectsHelp))
                registry.unregisterGauge(registry.makeGauge(name: "martlet_bucket_bytes", labels: labels, help: Self.bytesHelp))
            }
        } catch {
            logger.error("metrics: reading the index's counters failed: \(error)")
        }
    }
}

extension S3Server {
    /// One access-log line per request (metadata `log: access`, level info): request id, remote address, principal,
    /// operation, bucket, key, status, error code, bytes in and out, and milliseconds from head to response end.
    func logAccess(_ response: S3Response, remote: String?, bytesIn: Int64, bytesOut: Int64, duration: Duration) {
        guard configuration.accessLog, accessLogger.logLevel <= .info else { return }
        let (seconds, attoseconds) = duration.components
        let milliseconds = Double(seconds) * 1000 + Double(attoseconds) / 1e15
        var metadata: Logger.Metadata = [
            "request-id": .string(response.headers[.amzRequestID] ?? "-"),
            "remote": .string(remote ?? "-"),
            "principal": .string(response.principal ?? "anonymous"),
            "operation": .string(response.operation ?? "Unknown"),
            "status": .stringConvertible(response.status.code),
            "bytes-in": .stringConvertible(bytesIn),
            "bytes-out": .stringConvertible(bytesOut),
            "ms": .string(String(format: "%.3f", milliseconds)),
        ]
        if let bucket = response.bucket { metadata["bucket"] = .string(bucket) }
        if let key = response.key { metadata["key"] = .string(key) }
        if let code = response.errorCode { metadata["error"] = .string(code) }
        accessLogger.info("access", metadata: metadata)
    }
}
