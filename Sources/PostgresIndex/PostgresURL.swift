import Foundation
import NIOSSL
import ObjectStore
import PostgresNIO

/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require|verify-full]`, as libpq reads
/// it (user and password percent-decoded; `postgresql://` too). The password is never part of a description.
struct PostgresURL: Sendable, CustomStringConvertible {
    enum TLSMode: String, Sendable {
        case disable, prefer, require
        /// libpq's `verify-ca` and `verify-full` both mean a verified server here (NIOSSL checks the name too).
        case verifyFull = "verify-full"
    }

    var host: String
    var port: Int
    var user: String
    var password: String?
    var database: String
    var tls: TLSMode

    init(_ text: String) throws {
        guard let components = URLComponents(string: text),
              components.scheme == "postgres" || components.scheme == "postgresql"
        else { throw StoreError.ioFailure("index URL must look like postgres://USER:PASSWORD@HOST:PORT/DATABASE") }
        guard let host = components.host, !host.isEmpty else { throw StoreError.ioFailure("index URL has no host") }
        guard let user = components.user.flatMap({ $0.removingPercentEncoding }), !user.isEmpty else {
            throw StoreError.ioFailure("index URL has no user name")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else { throw StoreError.ioFailure("index URL names no database") }
        self.host = host
        self.port = components.port ?? 5432
        self.user = user
        self.password = components.password.flatMap { $0.removingPercentEncoding }
        self.database = database.removingPercentEncoding ?? database
        var tls = TLSMode.prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                let value = item.value ?? ""
                if value == "verify-ca" {
                    tls = .verifyFull
                } else if let mode = TLSMode(rawValue: value) {
                    tls = mode
                } else if value == "allow" {
                    tls = .prefer
                } else {
                    throw StoreError.ioFailure("index URL: unknown sslmode \(value)")
                }
            default:
                throw StoreError.ioFailure("index URL: unknown parameter \(item.name)")
            }
        }
        self.tls = tls
    }

    func configuration() throws -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch self.tls {
        case .disable:
            tls = .disable
        case .prefer, .require:
            // libpq's prefer and require encrypt without checking who answers; verify-full checks.
            var unverified = TLSConfiguration.makeClientConfiguration()
            unverified.certificateVerification = .none
            tls = self.tls == .prefer ? .prefer(unverified) : .require(unverified)
        case .verifyFull:
            tls = .require(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tls)
        // A database that cannot be reached fails requests within seconds (500, and not ready), rather than holding
        // them for postgres-nio's default of 10 s.
        configuration.options.connectTimeout = .seconds(3)
        return configuration
    }

    var description: String { "postgres://\(user)@\(host):\(port)/\(database)?sslmode=\(tls.rawValue)" }
}
