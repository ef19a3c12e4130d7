// swift-tools-version:6.2
import PackageDescription

// Dependencies point one way: martlet -> S3API, LocalStore; S3API -> S3Wire, S3Auth, ObjectStore, Digest;
// S3Wire -> S3Auth, ObjectStore, Digest;
// LocalStore -> ObjectStore, GRDB; PostgresIndex -> ObjectStore, PostgresNIO. S3Auth and ObjectStore import neither Hummingbird nor GRDB.
let package = Package(
    name: "martlet",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "martlet", targets: ["martlet"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // System libcrypto (OpenSSL) and zlib, for digests and CRC32; glibc's malloc tuning for the executable.
        .systemLibrary(
            name: "CMartletSystem",
            providers: [.apt(["libssl-dev", "zlib1g-dev"])]
        ),
        // Table-driven / hardware CRC32C and CRC64NVME, which neither OpenSSL nor zlib provide.
        .target(name: "CMartletCRC", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "Digest", dependencies: ["CMartletSystem", "CMartletCRC"]),
        .target(
            name: "ObjectStore",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        .target(
            name: "LocalStore",
            dependencies: [
                "ObjectStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The index in PostgreSQL, for several stateless nodes over one database (see README "Several nodes").
        .target(
            name: "PostgresIndex",
            dependencies: [
                "ObjectStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "S3Auth",
            dependencies: ["Digest", .product(name: "NIOCore", package: "swift-nio")]
        ),
        // The wire protocol: request targets, query strings, request documents (XML), the error table. Pure: no
        // server, no storage, so that its parsers can be fuzzed on their own.
        .target(
            name: "S3Wire",
            dependencies: [
                "S3Auth", "ObjectStore", "Digest",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .target(
            name: "S3API",
            dependencies: [
                "S3Wire", "S3Auth", "ObjectStore", "Digest",
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // Background services: the lifecycle rules' executor.
        .target(
            name: "Lifecycle",
            dependencies: [
                "ObjectStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Background services: delivery of the notification outbox to webhooks and Redis streams.
        .target(
            name: "Notifications",
            dependencies: [
                "ObjectStore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "martlet",
            dependencies: [
                "S3API", "S3Wire", "LocalStore", "PostgresIndex", "ObjectStore", "S3Auth", "Digest", "Lifecycle", "Notifications",
                "CMartletSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The parsers of client input as fuzz targets: a library, so that the unit tests replay every committed input
        // without sanitizers (FuzzReplayTests); martlet-fuzz runs them under libFuzzer (make fuzz) or replays files.
        .target(
            name: "FuzzTargets",
            dependencies: [
                "S3Wire", "S3Auth",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            path: "Sources/martlet-fuzz"
        ),
        .executableTarget(name: "martlet-fuzz", dependencies: ["FuzzTargets"], path: "Sources/martlet-fuzz-main"),
        // Digest throughput, run by hand (see bench/README.md).
        .executableTarget(name: "digest-bench", dependencies: ["Digest"]),
        .testTarget(name: "DigestTests", dependencies: ["Digest", "CMartletSystem"]),
        .testTarget(name: "FuzzReplayTests", dependencies: ["FuzzTargets"]),
        .testTarget(
            name: "S3AuthTests",
            dependencies: ["S3Auth", "Digest", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(name: "ObjectStoreTests", dependencies: ["ObjectStore"]),
        .testTarget(
            name: "NotificationsTests",
            dependencies: [
                "Notifications", "ObjectStore", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "LocalStoreTests",
            dependencies: [
                "LocalStore", "ObjectStore", "PostgresIndex", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // The real server in process over a disk that fails on cue (LocalStore's fault seam).
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "S3API", "LocalStore", "ObjectStore", "S3Auth", "Digest",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "S3APITests",
            dependencies: [
                "S3API", "S3Wire", "S3Auth", "ObjectStore", .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
    ]
)
