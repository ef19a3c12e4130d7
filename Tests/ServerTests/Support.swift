import Digest
import Foundation
import LocalStore
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A ``DiskFaultInjector`` whose rules tests change while the server runs: each operation may fail with an
/// errno after a number of calls have gone through.
final class FaultPlan: DiskFaultInjector {
    private struct Rule {
        var errno: CInt
        var passes: Int
    }

    private let rules = Mutex<[DiskOperation: Rule]>([:])

    /// Makes `operation` fail with `errno` once `after` more calls of it have succeeded.
    func fail(_ operation: DiskOperation, with errno: CInt, after passes: Int = 0) {
        rules.withLock { $0[operation] = Rule(errno: errno, passes: passes) }
    }

    func heal() {
        rules.withLock { $0.removeAll() }
    }

    func fault(_ operation: DiskOperation, path: String) -> CInt? {
        rules.withLock { rules in
            guard var rule = rules[operation] else { return nil }
            if rule.passes > 0 {
                rule.passes -= 1
                rules[operation] = rule
                return nil
            }
            return rule.errno
        }
    }
}

/// What the server logged.
final class LogRecords: Sendable {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let records = Mutex<[Record]>([])

    func append(_ record: Record) { records.withLock { $0.append(record) } }
    var all: [Record] { records.withLock { $0 } }

    func errors(requestID: String) -> [Record] {
        all.filter { $0.level >= .error && $0.metadata["request-id"] == requestID }
    }
}

struct CapturingLogHandler: LogHandler {
    let records: LogRecords
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        records.append(.init(level: event.level, message: "\(event.message)", metadata: merged.mapValues { "\($0)" }))
    }
}

enum HTTPDateFormat {
    static func now() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: Date())
    }
}

/// AWS signature version 2 for requests with no Content-MD5, Content-Type or x-amz headers:
/// https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html
enum SigV2Signer {
    static func sign(method: String, path: String, date: String, secretKey: String) -> String {
        let toSign = "\(method)\n\n\n\(date)\n\(path)"
        return HMAC.sha1(key: Array(secretKey.utf8), message: Array(toSign.utf8)).base64String
    }
}

/// One HTTP response read off a blocking socket.
struct RawResponse: Sendable {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]
    /// Whether the body is as long as the response's Content-Length said.
    var isComplete: Bool

    var contentLength: Int? { headers["content-length"].flatMap { Int($0) } }

    struct SocketError: Error {
        var call: String
    }

    static func exchange(_ request: [UInt8], port: Int) throws -> RawResponse {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError(call: "socket") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw SocketError(call: "connect") }
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw SocketError(call: "send") }
            sent += n
        }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        func done() -> Bool {
            guard let end = headEnd(received), let head = parseHead(received) else { return false }
            guard let length = head.contentLength else { return false }  // read until the server closes
            return received.count - end >= length
        }
        while !done() {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }  // closed (or reset): whatever arrived is the answer
            received += chunk[..<n]
        }
        guard var response = parseHead(received), let end = headEnd(received) else {
            throw SocketError(call: "recv (no response head)")
        }
        response.body = Array(received[end...])
        response.isComplete = response.contentLength.map { response.body.count >= $0 } ?? true
        return response
    }

    private static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i + 4
        }
        return nil
    }

    private static func parseHead(_ bytes: [UInt8]) -> RawResponse? {
        guard let end = headEnd(bytes) else { return nil }
        let lines = String(decoding: bytes[..<(end - 4)], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return RawResponse(status: status, headers: headers, body: [], isComplete: false)
    }
}
