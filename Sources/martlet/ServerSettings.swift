import ArgumentParser
import Foundation
import Logging
import Notifications
import S3API

/// Every `martlet server` setting after precedence: a flag, else its `MARTLET_*` variable (the flag's name in
/// capitals, dashes as underscores), else the configuration file, else the default.
struct ServerSettings {
    var address: ListenAddress
    var data: String
    var region: String
    var domain: String?
    var certsDir: String?
    var accessKey: String?
    var secretKey: String?
    var lifecycleDaySeconds: Int
    var headerTimeout: Double
    var idleTimeout: Double
    var bodyTimeout: Double
    var maxConnections: Int
    var bucketDefaults: BucketDefaultsChoice
    var websiteAddress: ListenAddress?
    var websiteDomain: String?
    var logLevel: Logger.Level
    var logFormat: LogFormat
    var accessLog: Bool
    var metricsToken: String?
    var metricsPublic: Bool
    var eventMaxAge: Double
    var eventMaxBackoff: Double
    var maxUsersPerAccount: Int
    var index: String?
    var nodeID: String?
    var blobGrace: Double
    var targets: [TargetSpec]
    var declared: DeclaredState
}

extension ServerCommand {
    func resolve(environment: [String: String]) throws -> ServerSettings {
        let configPath = config ?? environment["MARTLET_CONFIG"]
        // A file's own problems are reported as they are (FILE:LINE: reason), without the usage text.
        let file = try configPath.map { try ConfigFile(path: $0, allowedSettings: Self.fileSettings) }
        let sources = SettingSources(file: file, environment: environment)
        let settings = ServerSettings(
            address: try sources.pick(address.flatMap(ListenAddress.init), "address", ListenAddress.init, flagText: address)
                ?? ListenAddress("127.0.0.1:9000")!,
            data: try sources.pick(data, "data", { $0 }) ?? "./data",
            region: try sources.pick(region, "region", { $0.isEmpty ? nil : $0 }) ?? "us-east-1",
            domain: try sources.pick(domain, "domain", { $0 }),
            certsDir: try sources.pick(certsDir, "certs-dir", { $0 }),
            accessKey: try sources.pick(accessKey, "access-key", { $0 }),
            secretKey: try sources.pick(secretKey, "secret-key", { $0 }),
            lifecycleDaySeconds: try sources.pick(lifecycleDaySeconds, "lifecycle-day-seconds", { Int($0).flatMap { $0 > 0 ? $0 : nil } }) ?? 86_400,
            headerTimeout: try sources.pick(headerTimeout, "header-timeout", Self.seconds) ?? 30,
            idleTimeout: try sources.pick(idleTimeout, "idle-timeout", Self.seconds) ?? 60,
            bodyTimeout: try sources.pick(bodyTimeout, "body-timeout", Self.seconds) ?? 30,
            maxConnections: try sources.pick(maxConnections, "max-connections", { Int($0).flatMap { $0 > 0 ? $0 : nil } }) ?? 10_000,
            bucketDefaults: try sources.pick(bucketDefaults, "bucket-defaults", BucketDefaultsChoice.init(rawValue:)) ?? .aws,
            websiteAddress: try sources.pick(websiteAddress.flatMap(ListenAddress.init), "website-address", ListenAddress.init, flagText: websiteAddress),
            websiteDomain: try sources.pick(websiteDomain, "website-domain", { $0 }),
            logLevel: try sources.pick(logLevel, "log-level", Logger.Level.init(rawValue:)) ?? .info,
            logFormat: try sources.pick(logFormat, "log-format", LogFormat.init(rawValue:)) ?? .text,
            accessLog: try sources.pick(accessLog, "access-log", Self.bool) ?? true,
            metricsToken: try sources.pick(metricsToken, "metrics-token", { $0 }),
            metricsPublic: try sources.pick(metricsPublic, "metrics-public", Self.bool) ?? false,
            eventMaxAge: try sources.pick(eventMaxAge, "event-max-age", Self.positive) ?? 86_400,
            eventMaxBackoff: try sources.pick(eventMaxBackoff, "event-max-backoff", Self.positive) ?? 60,
            maxUsersPerAccount: try sources.pick(
                maxUsersPerAccount, "max-users-per-account", { Int($0).flatMap { $0 > 0 ? $0 : nil } }) ?? 5_000,
            index: try sources.pick(index, "index", { $0.isEmpty ? nil : $0 }),
            nodeID: try sources.pick(nodeId, "node-id", { $0.isEmpty ? nil : $0 }),
            blobGrace: try sources.pick(blobGrace, "blob-grace", Self.positive) ?? 3_600,
            targets: try notificationTargets(file: file, environment: environment),
            declared: file?.declared ?? DeclaredState())
        if let websiteDomain = settings.websiteDomain, let domain = settings.domain, websiteDomain.lowercased() == domain.lowercased() {
            // bucket.DOMAIN would mean both the S3 API and the website: AWS keeps the two endpoints apart.
            throw ValidationError("website-domain must differ from domain")
        }
        if (settings.accessKey == nil) != (settings.secretKey == nil) {
            throw ValidationError("access-key and secret-key go together")
        }
        if settings.nodeID != nil && settings.index == nil {
            throw ValidationError("--node-id names a node of a cluster: it needs --index postgres://…")
        }
        if let url = settings.index, !(url.hasPrefix("postgres://") || url.hasPrefix("postgresql://")) {
            throw ValidationError("--index must be a postgres:// URL (without it, the index is SQLite in the data folder)")
        }
        if settings.maxUsersPerAccount <= 0 { throw ValidationError("--max-users-per-account must be at least 1") }
        return settings
    }

    /// Targets from the file, then `MARTLET_WEBHOOK_<ID>`/`MARTLET_REDIS_<ID>`, then `--webhook`/`--redis`: a
    /// later source wins for the same id.
    private func notificationTargets(file: ConfigFile?, environment: [String: String]) throws -> [TargetSpec] {
        var targets: [String: TargetSpec] = [:]
        for spec in file?.targets ?? [] { targets["\(spec.kind)/\(spec.id)"] = spec }
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

    static func seconds(_ text: String) -> Double? { Double(text).flatMap { $0 > 0 && $0 <= 86_400 ? $0 : nil } }
    static func positive(_ text: String) -> Double? { Double(text).flatMap { $0 > 0 ? $0 : nil } }
    static func bool(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "yes", "on", "1": true
        case "false", "no", "off", "0": false
        default: nil
        }
    }
}

/// Where a setting not given as a flag comes from.
struct SettingSources {
    let file: ConfigFile?
    let environment: [String: String]

    /// `flag` if given (`flagText` is its text, for a flag that did not parse), else the variable, else the file.
    func pick<T>(_ flag: T?, _ name: String, _ parse: (String) -> T?, flagText: String? = nil) throws -> T? {
        if let flag { return flag }
        if let flagText { throw ValidationError("--\(name): \"\(flagText)\" is not valid") }
        let variable = "MARTLET_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
        if let text = environment[variable] {
            guard let value = parse(text) else { throw ValidationError("\(variable): \"\(text)\" is not a valid \(name)") }
            return value
        }
        if let file, let (text, line) = file.settings[name] {
            guard let value = parse(text) else { throw ConfigError("\(file.path):\(line): \"\(text)\" is not a valid \(name)") }
            return value
        }
        return nil
    }
}
