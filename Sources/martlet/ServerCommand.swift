import ArgumentParser
import Foundation
import Lifecycle
import LocalStore
import Metrics
import Notifications
import Prometheus
import NIOPosix
import Logging
import ObjectStore
import S3API
import S3Auth
import ServiceLifecycle

struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Serve the S3 API from a data folder.",
        discussion: """
            Credentials come from --access-key/--secret-key, else MARTLET_ACCESS_KEY/MARTLET_SECRET_KEY, \
            else a development pair generated on first start and kept in <data>/credentials.json. \
            SIGINT or SIGTERM stops the server gracefully: requests in flight finish first.
            """
    )

    @Option(help: "Address to listen on, HOST:PORT.")
    var address = "127.0.0.1:9000"

    @Option(help: "Folder holding the index and object data.")
    var data = "./data"

    @Option(help: "The region this server is; clients must sign for it.")
    var region = "us-east-1"

    @Option(help: "Domain for virtual-hosted-style requests (bucket.DOMAIN).")
    var domain: String?

    @Option(help: "Folder with public.crt and private.key (PEM): serve HTTPS on the same port.")
    var certsDir: String?

    @Option(help: "Access key id (or MARTLET_ACCESS_KEY).")
    var accessKey: String?

    @Option(help: "Secret access key (or MARTLET_SECRET_KEY).")
    var secretKey: String?

    @Option(help: "Seconds in a lifecycle day (86400); a few seconds lets tests watch lifecycle rules act.")
    var lifecycleDaySeconds: Int = 86_400

    @Option(help: "Seconds a client has to send a request head once it has begun one.")
    var headerTimeout: Double = 30

    @Option(help: "Seconds an open connection may wait idle between requests.")
    var idleTimeout: Double = 60

    @Option(help: "Seconds a request body may send nothing before the request fails with 400 RequestTimeout.")
    var bodyTimeout: Double = 30

    @Option(help: "Open connections at once; more are answered 503 SlowDown and closed (capped by the file descriptor limit).")
    var maxConnections: Int = 10_000

    @Option(help: """
        What new buckets start with: aws (ACLs disabled by BucketOwnerEnforced, Block Public Access on: AWS's \
        defaults since April 2023) or open (ACLs on as ObjectWriter, no Block Public Access: S3's defaults before, \
        as Ceph RGW and MinIO keep them).
        """)
    var bucketDefaults: BucketDefaultsChoice = .aws

    @Option(help: "Also serve buckets' static websites on this address, HOST:PORT (plain HTTP, anonymous, as AWS's website endpoints).")
    var websiteAddress: String?

    @Option(help: "Serve bucket.DOMAIN host names as the bucket's static website, on every listener (e.g. localhost).")
    var websiteDomain: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    @Option(help: "Log lines as readable text, or one JSON object per line (json) for a log collector.")
    var logFormat: LogFormat = .text

    @Flag(inversion: .prefixedNo, help: "One access-log line per request at info level (it costs about 15% of small-GET throughput).")
    var accessLog = true

    @Option(help: "A scraper sending `Authorization: Bearer TOKEN` may read /_martlet/metrics (else MARTLET_METRICS_TOKEN; without either, only the operator's signed requests may).")
    var metricsToken: String?

    @Flag(help: "Let anyone read /_martlet/metrics.")
    var metricsPublic = false

    @Option(help: "A webhook notification target, ID=URL (repeatable; also MARTLET_WEBHOOK_<ID>=URL). Buckets name it as arn:martlet:sqs:REGION:ID:webhook.")
    var webhook: [String] = []

    @Option(help: "A Redis stream notification target, ID=redis://[:PASSWORD@]HOST[:PORT][/DB][?stream=NAME] (repeatable; also MARTLET_REDIS_<ID>=URL). Buckets name it as arn:martlet:sqs:REGION:ID:redis.")
    var redis: [String] = []

    @Option(help: "Seconds an event may keep failing before it moves to the dead-letter list (see `martlet admin events`).")
    var eventMaxAge: Double = 86_400

    @Option(help: "The longest wait, in seconds, between retries of an event whose target fails.")
    var eventMaxBackoff: Double = 60

    func validate() throws {
        guard ListenAddress(address) != nil else { throw ValidationError("--address must be HOST:PORT, e.g. 127.0.0.1:9000") }
        if let websiteAddress, ListenAddress(websiteAddress) == nil {
            throw ValidationError("--website-address must be HOST:PORT, e.g. 127.0.0.1:9080")
        }
        if let websiteDomain, let domain, websiteDomain.lowercased() == domain.lowercased() {
            // bucket.DOMAIN would mean both the S3 API and the website: AWS keeps the two endpoints apart.
            throw ValidationError("--website-domain must differ from --domain")
        }
        for (name, seconds) in [("--header-timeout", headerTimeout), ("--idle-timeout", idleTimeout), ("--body-timeout", bodyTimeout)] {
            guard seconds > 0, seconds <= 86_400 else { throw ValidationError("\(name) must be between 0 and 86400 seconds") }
        }
        guard maxConnections > 0 else { throw ValidationError("--max-connections must be at least 1") }
        if (accessKey == nil) != (secretKey == nil) {
            throw ValidationError("--access-key and --secret-key go together")
        }
        guard eventMaxAge > 0, eventMaxBackoff > 0 else { throw ValidationError("--event-max-age and --event-max-backoff must be positive") }
        _ = try notificationTargets(environment: ProcessInfo.processInfo.environment)
    }

    /// Targets from `--webhook`/`--redis` and `MARTLET_WEBHOOK_<ID>`/`MARTLET_REDIS_<ID>`; a flag wins over the
    /// environment for the same id.
    func notificationTargets(environment: [String: String]) throws -> [TargetSpec] {
        var targets: [String: TargetSpec] = [:]
        for (kind, prefix) in [(TargetSpec.Kind.webhook, "MARTLET_WEBHOOK_"), (.redis, "MARTLET_REDIS_")] {
            for (name, url) in environment where name.hasPrefix(prefix) && name.count > prefix.count {
                let id = String(name.dropFirst(prefix.count))
                targets["\(kind)/\(id)"] = TargetSpec(id: id, kind: kind, url: url)
            }
        }
        for (kind, values, flag) in [(TargetSpec.Kind.webhook, webhook, "--webhook"), (.redis, redis, "--redis")] {
            for value in values {
                guard let equals = value.firstIndex(of: "=") else { throw ValidationError("\(flag) takes ID=URL, not \(value)") }
                let id = String(value[..<equals])
                targets["\(kind)/\(id)"] = TargetSpec(id: id, kind: kind, url: String(value[value.index(after: equals)...]))
            }
        }
        let specs = targets.values.sorted { $0.id < $1.id }
        for spec in specs {
            do { try spec.validate() } catch { throw ValidationError(error.description) }
        }
        return specs
    }

    func run() async throws {
        let (level, format) = (logLevel, logFormat)
        LoggingSystem.bootstrap { label in
            switch format {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            case .json:
                return JSONLogHandler(logLevel: level, label: label)
            }
        }
        let logger = Logger(label: "martlet")
        MemoryRelease.configureAllocator()
        let listen = ListenAddress(address)!
        let startedAt = Date()
        // File I/O gets its own threads: an fsync waiting on the disk must not stall other requests' reads.
        let ioThreads = NIOThreadPool(numberOfThreads: 16)
        ioThreads.start()
        let local = try LocalStorage.open(directory: data, threadPool: ioThreads)
        // Held until the process ends: one server per data folder, and no offline key rotation under it.
        let folderLock = try DataFolderLock(dataDirectory: data, purpose: "stop it before starting another on the same folder")
        defer { withExtendedLifetime(folderLock) {} }
        let storage = Storage(index: local.index, blobs: local.blobs)
        let givenAccessKey = accessKey ?? ProcessInfo.processInfo.environment["MARTLET_ACCESS_KEY"]
        let givenSecretKey = secretKey ?? ProcessInfo.processInfo.environment["MARTLET_SECRET_KEY"]
        let credentials = try DevelopmentCredentials.resolve(
            accessKey: givenAccessKey, secretKey: givenSecretKey, dataDirectory: data)
        // Only the generated development secret is shown; one the operator chose stays out of logs.
        let shownSecret = givenSecretKey == nil ? credentials.secretKey : "(as given)"
        let tls = certsDir.map { dir in
            (certificateChain: dir + "/public.crt", privateKey: dir + "/private.key")
        }
        // The start-up credentials are the operator's root key: the first account's, which manages the others.
        let masterKey = try MasterKey.load(dataDirectory: data)
        if masterKey.isRotating {
            logger.warning("a master key rotation is unfinished: stop the server and run `martlet admin kms rotate --data \(data)`")
        }
        let directory = IdentityDirectory(index: local.index, masterKey: masterKey)
        let operatorAccount = try await directory.bootstrapOperator(accessKey: credentials.accessKey, secretKey: credentials.secretKey)
        let keyring = Keyring(masterKey: masterKey, keys: local.index, region: region, accountID: operatorAccount.id)
        var settings = S3ServerConfiguration(
            host: listen.host, port: listen.port, region: region, domain: domain, tls: tls, directory: directory,
            keyring: keyring)
        settings.lifecycleDaySeconds = lifecycleDaySeconds
        settings.bucketDefaults = bucketDefaults == .aws ? .aws : .open
        settings.websiteDomain = websiteDomain
        settings.dataDirectory = data
        // Counters and histograms go through swift-metrics into one Prometheus registry, read by /_martlet/metrics.
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        settings.metricsRegistry = registry
        settings.metricsToken = metricsToken ?? ProcessInfo.processInfo.environment["MARTLET_METRICS_TOKEN"]
        settings.metricsPublic = metricsPublic
        settings.accessLog = accessLog
        let targets = try notificationTargets(environment: ProcessInfo.processInfo.environment)
        settings.notificationTargets = Set(targets.map { $0.arn(region: region) })
        settings.connections.headerTimeout = .milliseconds(Int64(headerTimeout * 1000))
        settings.connections.idleTimeout = .milliseconds(Int64(idleTimeout * 1000))
        settings.connections.bodyStallTimeout = .milliseconds(Int64(bodyTimeout * 1000))
        settings.connections.maxConnections = FileDescriptorLimit.raise(toServe: maxConnections, logger: logger)
        let configuration = settings
        let scheme = tls == nil ? "http" : "https"
        let s3Server = S3Server(configuration: configuration, storage: storage, logger: logger)
        let server = try s3Server.makeService { bound in
            let port = bound?.port ?? listen.port
            // Unbuffered, so scripts waiting for the banner see it at once.
            FileHandle.standardOutput.write(Data("""
                Martlet is serving S3 at \(scheme)://\(listen.host):\(port)  (region \(configuration.region))
                  data folder: \(data)
                  AWS_ACCESS_KEY_ID=\(credentials.accessKey)
                  AWS_SECRET_ACCESS_KEY=\(shownSecret)
                  aws --endpoint-url \(scheme)://\(listen.host):\(port) s3 ls

                """.utf8))
        }
        let sweep = OrphanSweep(local: local, storage: storage, startedAt: startedAt, logger: logger)
        let lifecycle = LifecycleService(storage: storage, daySeconds: lifecycleDaySeconds, logger: logger)
        var policy = DeliveryPolicy()
        policy.maxAge = eventMaxAge
        policy.maxBackoff = eventMaxBackoff
        let delivery = try DeliveryService(index: local.index, targets: targets, region: region, policy: policy, logger: logger)
        for target in targets { logger.info("notification target \(target.arn(region: region))") }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: server),
            .init(service: sweep, successTerminationBehavior: .ignore),
            .init(service: lifecycle),
            .init(service: delivery),
            .init(service: MemoryRelease()),
        ]
        if let website = websiteAddress.flatMap(ListenAddress.init) {
            services.append(.init(service: s3Server.makeWebsiteService(host: website.host, port: website.port)))
            logger.info("serving bucket websites at http://\(website.host):\(website.port)")
        }
        let group = ServiceGroup(configuration: .init(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}

/// HOST:PORT, with IPv6 hosts in brackets.
struct ListenAddress {
    var host: String
    var port: Int

    init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            return nil
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.host = host
        self.port = port
    }
}

/// Removes blob files a crash left without an index record, in the background once the server runs.
struct OrphanSweep: Service {
    let local: LocalStorage
    let storage: Storage
    let startedAt: Date
    let logger: Logger

    func run() async throws {
        do {
            let removed = try await local.removeOrphans(olderThan: startedAt, isPinned: storage.isPinned)
            if removed > 0 { logger.notice("removed \(removed) orphaned blob(s) left by an earlier crash") }
        } catch {
            logger.error("orphan sweep failed: \(error)")
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
}

enum BucketDefaultsChoice: String, ExpressibleByArgument, CaseIterable {
    case aws, open
}
