import ObjectStore
import Prometheus
import S3Auth

/// Everything the HTTP face needs to know, built by the executable (or a test) from its options.
public struct S3ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The one region this server is; SigV4 credential scopes must name it.
    public var region: String
    /// Enables virtual-hosted-style requests (`bucket.domain`).
    public var domain: String?
    /// PEM files; when set, the port serves HTTPS.
    public var tls: (certificateChain: String, privateKey: String)?
    /// Accounts, users and keys: whose signatures are valid, and what they may do.
    public var directory: IdentityDirectory
    /// The master key and the key service's keys, for encryption at rest.
    public var keyring: Keyring
    /// The largest single PUT body (S3: 5 GiB).
    public var maxObjectSize: Int64 = 5 * 1024 * 1024 * 1024
    /// Seconds in a lifecycle day: 86,400, or a few for tests that watch rules run.
    public var lifecycleDaySeconds: Int = 86_400
    /// What a new bucket starts with.
    public var bucketDefaults = BucketDefaults.aws
    /// Timeouts and the connection limit.
    public var connections = ConnectionPolicy()
    /// Requests for `bucket.<websiteDomain>` are website requests, on any listener.
    public var websiteDomain: String?
    /// The data folder, for the readiness check (writable, not full); nil skips those checks.
    public var dataDirectory: String?
    /// Where `/_martlet/metrics` reads the counters from: the registry the Prometheus backend counts into.
    public var metricsRegistry: PrometheusCollectorRegistry?
    /// `Authorization: Bearer TOKEN` lets a scraper read `/_martlet/metrics` without signing.
    public var metricsToken: String?
    /// `/_martlet/metrics` answers anyone.
    public var metricsPublic = false
    /// One log line per request (at info level).
    public var accessLog = true
    /// ARNs of the notification targets configured on the server, which bucket notification rules may name.
    public var notificationTargets: Set<String> = []

    public init(
        host: String, port: Int, region: String, domain: String?,
        tls: (certificateChain: String, privateKey: String)?, directory: IdentityDirectory, keyring: Keyring
    ) {
        self.keyring = keyring
        self.host = host
        self.port = port
        self.region = region
        self.domain = domain
        self.tls = tls
        self.directory = directory
    }
}

/// The Object Ownership and Block Public Access settings a new bucket starts with.
public struct BucketDefaults: Sendable {
    public var ownership: ObjectOwnership
    public var publicAccessBlock: PublicAccessBlock?

    public init(ownership: ObjectOwnership, publicAccessBlock: PublicAccessBlock?) {
        self.ownership = ownership
        self.publicAccessBlock = publicAccessBlock
    }

    /// AWS's defaults since April 2023: ACLs disabled (BucketOwnerEnforced) and all of Block Public Access on.
    public static let aws = BucketDefaults(ownership: .bucketOwnerEnforced, publicAccessBlock: .all)
    /// S3's defaults before then, which Ceph RGW and MinIO keep: ACLs on (ObjectWriter), no Block Public Access.
    public static let open = BucketDefaults(ownership: .objectWriter, publicAccessBlock: nil)
}
