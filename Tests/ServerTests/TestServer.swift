import Foundation
import LocalStore
import Logging
import NIOCore
import NIOPosix
import ObjectStore
import S3API
import S3Auth
import ServiceLifecycle

/// The real S3 server, on port 0 over a temporary data folder, with a disk that fails where a test says.
struct TestServer: Sendable {
    static let accessKey = "AKIDSERVERTESTS"
    static let secretKey = "server/tests+secret"

    let directory: String
    let port: Int
    let faults: FaultPlan
    let logs: LogRecords

    /// Starts a server, runs `body` against it, then stops it and removes its data folder, whatever happens.
    static func with<T>(_ body: (TestServer) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("martlet-server-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let faults = FaultPlan()
        let logs = LogRecords()
        let logger = Logger(label: "server-tests") { _ in CapturingLogHandler(records: logs) }
        let local = try LocalStorage.open(directory: directory, logger: logger, faults: faults)
        let masterKey = MasterKey(bytes: Array(repeating: 7, count: 32))
        let identities = IdentityDirectory(index: local.index, masterKey: masterKey)
        let account = try await identities.bootstrapOperator(accessKey: accessKey, secretKey: secretKey)
        let configuration = S3ServerConfiguration(
            host: "127.0.0.1", port: 0, region: "us-east-1", domain: nil, tls: nil, directory: identities,
            keyring: Keyring(masterKey: masterKey, keys: local.index, region: "us-east-1", accountID: account.id))
        let (bound, announce) = AsyncStream<Int>.makeStream()
        let service = try S3Server(
            configuration: configuration, storage: Storage(index: local.index, blobs: local.blobs), logger: logger
        ).makeService { address in
            announce.yield(address?.port ?? 0)
            announce.finish()
        }
        let group = ServiceGroup(services: [service], logger: logger)
        let running = Task { try await group.run() }
        var ports = bound.makeAsyncIterator()
        let port = await ports.next() ?? 0
        do {
            let result = try await body(TestServer(directory: directory, port: port, faults: faults, logs: logs))
            await group.triggerGracefulShutdown()
            _ = try? await running.value
            return result
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await running.value
            throw error
        }
    }

    /// Files left in the blob store's temporary folder.
    var temporaryFiles: [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: directory + "/tmp")) ?? []
    }

    /// Sends one SigV2-signed request on a new connection and reads the answer until the server closes or
    /// the response's Content-Length is met. Runs the blocking socket calls off the cooperative pool.
    func request(_ method: String, _ path: String, body: [UInt8] = []) async throws -> RawResponse {
        let date = HTTPDateFormat.now()
        let signature = SigV2Signer.sign(method: method, path: path, date: date, secretKey: Self.secretKey)
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nDate: \(date)\r\n"
        head += "Authorization: AWS \(Self.accessKey):\(signature)\r\nContent-Length: \(body.count)\r\n\r\n"
        let bytes = Array(head.utf8) + body
        let port = self.port
        return try await NIOThreadPool.singleton.runIfActive { try RawResponse.exchange(bytes, port: port) }
    }
}
