import ArgumentParser
import Foundation
import Lifecycle
import LocalStore
import PostgresIndex
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
            Every option can also be set by a MARTLET_* variable (its name in capitals, dashes as underscores: \
            --max-connections is MARTLET_MAX_CONNECTIONS) or in the --config file; a flag wins over its variable, \
            which wins over the file. \
            Credentials come from --access-key/--secret-key, else MARTLET_ACCESS_KEY/MARTLET_SECRET_KEY, \
            else a development pair generated on first start and kept in <data>/credentials.json. \
            SIGINT or SIGTERM stops the server gracefully: requests in flight finish first.
            """
    )

    @Option(help: "A YAML file of settings (any of these options, without the dashes), notification targets, and accounts, users and buckets to create or bring in line at start-up; see martlet.example.yaml. Flags win over MARTLET_* variables, which win over the file.")
    var config: String?

    @Option(help: "Address to listen on, HOST:PORT (default 127.0.0.1:9000).")
    var address: String?

    @Option(help: "Folder holding the index and object data (default ./data).")
    var data: String?

    @Option(help: "The region this server is; clients must sign for it (default us-east-1).")
    var region: String?

    @Option(help: "Domain for virtual-hosted-style requests (bucket.DOMAIN).")
    var domain: String?

    @Option(help: "Folder with public.crt and private.key (PEM): serve HTTPS on the same port.")
    var certsDir: String?

    @Option(help: "Access key id (or MARTLET_ACCESS_KEY).")
    var accessKey: String?

    @Option(help: "Secret access key (or MARTLET_SECRET_KEY).")
    var secretKey: String?

    @Option(help: "Seconds in a lifecycle day (default 86400); a few seconds lets tests watch lifecycle rules act.")
    var lifecycleDaySeconds: Int?

    @Option(help: "Seconds a client has to send a request head once it has begun one (default 30).")
    var headerTimeout: Double?

    @Option(help: "Seconds an open connection may wait idle between requests (default 60).")
    var idleTimeout: Double?

    @Option(help: "Seconds a request body may send nothing before the request fails with 400 RequestTimeout (default 30).")
    var bodyTimeout: Double?

    @Option(help: "Open connections at once; more are answered 503 SlowDown and closed (capped by the file descriptor limit; default 10000).")
    var maxConnections: Int?

    @Option(help: """
        What new buckets start with: aws (the default: ACLs disabled by BucketOwnerEnforced, Block Public Access on, \
        AWS's defaults since April 2023) or open (ACLs on as ObjectWriter, no Block Public Access: S3's defaults before, \
        as Ceph RGW and MinIO keep them).
        """)
    var bucketDefaults: BucketDefaultsChoice?

    @Option(help: "Also serve buckets' static websites on this address, HOST:PORT (plain HTTP, anonymous, as AWS's website endpoints).")
    var websiteAddress: String?

    @Option(help: "Serve bucket.DOMAIN host names as the bucket's static website, on every listener (e.g. localhost).")
    var websiteDomain: String?

    @Option(help: "Log level: trace, debug, info (the default), notice, warning, error, critical.")
    var logLevel: Logger.Level?

    @Option(help: "Log lines as readable text (the default), or one JSON object per line (json) for a log collector.")
    var logFormat: LogFormat?

    @Flag(inversion: .prefixedNo, help: "One access-log line per request at info level (on by default; it costs about 15% of small-GET throughput).")
    var accessLog: Bool?

    @Option(help: "A scraper sending `Authorization: Bearer TOKEN` may read /_martlet/metrics (without it, only the operator's signed requests may).")
    var metricsToken: String?

    @Flag(inversion: .prefixedNo, help: "Let anyone read /_martlet/metrics (off by default).")
    var metricsPublic: Bool?

    @Option(help: "A webhook notification target, ID=URL (repeatable; also MARTLET_WEBHOOK_<ID>=URL, or webhooks: in the file). Buckets name it as arn:martlet:sqs:REGION:ID:webhook.")
    var webhook: [String] = []

    @Option(help: "A Redis stream notification target, ID=redis://[:PASSWORD@]HOST[:PORT][/DB][?stream=NAME] (repeatable; also MARTLET_REDIS_<ID>=URL, or redis: in the file). Buckets name it as arn:martlet:sqs:REGION:ID:redis.")
    var redis: [String] = []

    @Option(help: "Seconds an event may keep failing before it moves to the dead-letter list (see `martlet admin events`; default 86400).")
    var eventMaxAge: Double?

    @Option(help: "The longest wait, in seconds, between retries of an event whose target fails (default 60).")
    var eventMaxBackoff: Double?

    @Option(help: "Keep the index in PostgreSQL, postgres://USER:PASSWORD@HOST:PORT/DATABASE[?sslmode=disable|prefer|require|verify-full], shared by several nodes over one shared --data folder (see README \"Several nodes\"). Without it: SQLite in the data folder.")
    var index: String?

    @Option(help: "This node's name among several (letters, digits, . _ -; default: the host name and port). Only with --index.")
    var nodeId: String?

    @Option(help: "Seconds a freed blob's file is kept in cluster mode, for reads another node may still be making (default 3600).")
    var blobGrace: Double?

    @Option(help: "IAM users one account may hold (default 5000, AWS's quota); CreateUser past it fails with 409 LimitExceeded.")
    var maxUsersPerAccount: Int?

    /// The settings the file may hold: every option above but the file itself and the repeatable targets.
    static let fileSettings: Set<String> = [
        "address", "data", "region", "domain", "certs-dir", "access-key", "secret-key", "lifecycle-day-seconds",
        "header-timeout", "idle-timeout", "body-timeout", "max-connections", "bucket-defaults", "website-address",
        "website-domain", "log-level", "log-format", "access-log", "metrics-token", "metrics-public", "event-max-age",
        "event-max-backoff", "max-users-per-account", "index", "node-id", "blob-grace",
    ]

    func run() async throws {
        let resolved = try resolve(environment: ProcessInfo.processInfo.environment)
        let data = resolved.data
        let region = resolved.region
        let (level, format) = (resolved.logLevel, resolved.logFormat)
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
        let listen = resolved.address
        let startedAt = Date()
        // File I/O gets its own threads: an fsync waiting on the disk must not stall other requests' reads.
        let ioThreads = NIOThreadPool(numberOfThreads: 16)
        ioThreads.start()
        // The master key is read before the index: in cluster mode a node whose key cannot open the cluster's
        // secrets must refuse to start.
        let masterKey = try MasterKey.load(dataDirectory: data)
        var postgres: (index: PostgresIndex, pool: Task<Void, Never>)? = nil
        let backend: ServerBackend
        if let url = resolved.index {
            let nodeID = resolved.nodeID ?? Self.defaultNodeID(port: listen.port)
            let (made, index) = try await ServerBackend.cluster(
                url: url, data: data, nodeID: nodeID, address: "\(listen.host):\(listen.port)", masterKey: masterKey,
                blobGrace: .seconds(resolved.blobGrace), threads: ioThreads, logger: logger)
            let pool = Task { await index.run() }
            postgres = (index, pool)
            try await index.migrate()
            try await ClusterKeyCheck.verify(masterKey: masterKey, index: index)
            backend = made
        } else {
            backend = try ServerBackend.embedded(data: data, threads: ioThreads, startedAt: startedAt, logger: logger)
        }
        defer {
            backend.hold()
            postgres?.pool.cancel()
        }
        let storage = backend.storage
        let givenAccessKey = resolved.accessKey
        let givenSecretKey = resolved.secretKey
        let credentials = try DevelopmentCredentials.resolve(
            accessKey: givenAccessKey, secretKey: givenSecretKey, dataDirectory: data)
        // Only the generated development secret is shown; one the operator chose stays out of logs.
        let shownSecret = givenSecretKey == nil ? credentials.secretKey : "(as given)"
        let tls = resolved.certsDir.map { dir in
            (certificateChain: dir + "/public.crt", privateKey: dir + "/private.key")
        }
        // The start-up credentials are the operator's root key: the first account's, which manages the others.
        if masterKey.isRotating {
            logger.warning("a master key rotation is unfinished: stop the server and run `martlet admin kms rotate --data \(data)`")
        }
        let directory = IdentityDirectory(
            index: backend.identities, masterKey: masterKey, quotas: IdentityQuotas(usersPerAccount: resolved.maxUsersPerAccount))
        let operatorAccount = try await directory.bootstrapOperator(accessKey: credentials.accessKey, secretKey: credentials.secretKey)
        let keyring = Keyring(masterKey: masterKey, keys: backend.kmsKeys, region: region, accountID: operatorAccount.id)
        var settings = S3ServerConfiguration(
            host: listen.host, port: listen.port, region: region, domain: resolved.domain, tls: tls, directory: directory,
            keyring: keyring)
        settings.lifecycleDaySeconds = resolved.lifecycleDaySeconds
        settings.bucketDefaults = resolved.bucketDefaults == .aws ? .aws : .open
        settings.websiteDomain = resolved.websiteDomain
        settings.dataDirectory = data
        // Counters and histograms go through swift-metrics into one Prometheus registry, read by /_martlet/metrics.
        let registry = PrometheusCollectorRegistry()
        var metricsFactory = PrometheusMetricsFactory(registry: registry)
        if let node = backend.nodeID {
            // Every node's counters carry its name, so a scraper of several nodes can tell (and sum) them.
            let sanitize = metricsFactory.nameAndLabelSanitizer
            metricsFactory.nameAndLabelSanitizer = { name, labels in
                let (name, labels) = sanitize(name, labels)
                return (name, labels + [("node", node)])
            }
        }
        MetricsSystem.bootstrap(metricsFactory)
        settings.metricsRegistry = registry
        settings.metricsToken = resolved.metricsToken
        settings.metricsPublic = resolved.metricsPublic
        settings.accessLog = resolved.accessLog
        let targets = resolved.targets
        settings.notificationTargets = Set(targets.map { $0.arn(region: region) })
        settings.connections.headerTimeout = .milliseconds(Int64(resolved.headerTimeout * 1000))
        settings.connections.idleTimeout = .milliseconds(Int64(resolved.idleTimeout * 1000))
        settings.connections.bodyStallTimeout = .milliseconds(Int64(resolved.bodyTimeout * 1000))
        settings.connections.maxConnections = FileDescriptorLimit.raise(toServe: resolved.maxConnections, logger: logger)
        let configuration = settings
        if !resolved.declared.isEmpty {
            try await resolved.declared.apply(storage: storage, directory: directory, keyring: keyring, configuration: configuration)
            logger.info("configuration file applied", metadata: [
                "accounts": "\(resolved.declared.accounts.count)", "users": "\(resolved.declared.users.count)",
                "buckets": "\(resolved.declared.buckets.count)"])
        }
        let scheme = tls == nil ? "http" : "https"
        let s3Server = S3Server(configuration: configuration, storage: storage, logger: logger)
        let server = try s3Server.makeService { bound in
            let port = bound?.port ?? listen.port
            // Unbuffered, so scripts waiting for the banner see it at once.
            FileHandle.standardOutput.write(Data("""
                Martlet is serving S3 at \(scheme)://\(listen.host):\(port)  (region \(configuration.region))
                  \(backend.describe)
                  AWS_ACCESS_KEY_ID=\(credentials.accessKey)
                  AWS_SECRET_ACCESS_KEY=\(shownSecret)
                  aws --endpoint-url \(scheme)://\(listen.host):\(port) s3 ls

                """.utf8))
        }
        let coordinator = backend.coordinator
        let lifecycle = LifecycleService(storage: storage, daySeconds: resolved.lifecycleDaySeconds, logger: logger)
        var policy = DeliveryPolicy()
        policy.maxAge = resolved.eventMaxAge
        policy.maxBackoff = resolved.eventMaxBackoff
        let delivery = try DeliveryService(index: backend.notifications, targets: targets, region: region, policy: policy, logger: logger)
        for target in targets { logger.info("notification target \(target.arn(region: region))") }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: server),
            .init(service: LeasedService(lease: "blob-collection", coordinator: coordinator, service: backend.collector),
                  successTerminationBehavior: .ignore),
            .init(service: LeasedService(lease: "lifecycle", coordinator: coordinator, service: lifecycle)),
            .init(service: LeasedService(lease: "event-delivery", coordinator: coordinator, service: delivery)),
            .init(service: MemoryRelease()),
        ]
        if let cluster = coordinator as? PostgresCluster {
            services.insert(.init(service: cluster), at: 0)
            services.append(.init(service: s3Server.followClusterChanges(cluster)))
        }
        if let website = resolved.websiteAddress {
            services.append(.init(service: s3Server.makeWebsiteService(host: website.host, port: website.port)))
            logger.info("serving bucket websites at http://\(website.host):\(website.port)")
        }
        let group = ServiceGroup(configuration: .init(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        do {
            try await group.run()
        } catch {
            await delivery.shutdown()
            throw error
        }
        await delivery.shutdown()
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
