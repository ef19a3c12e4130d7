import Foundation
import HTTPTypes
import HummingbirdCore
import S3Auth
import S3Wire
import Synchronization

/// A request after parsing and authentication: what every handler gets.
public struct RequestContext: Sendable {
    public var requestID: String
    public var method: HTTPRequest.Method
    public var headers: HTTPFields
    public var target: RequestTarget
    public var query: QueryParameters
    public var auth: VerifiedRequest
    public var endpoint: S3Endpoint
    /// The Host the client named (HTTP/1 Host, HTTP/2 :authority).
    public var authority: String? = nil
    /// Where the request came from.
    public var connection = ConnectionInfo()
    /// Checks the caller's access to resources beyond the operation's own (a copy's source, DeleteObjects' keys).
    var access: RequestAccess?
    /// Whether the handler read the request body to its end.
    let bodyProgress = BodyProgress()
    /// A PutObject's checks, done before `100 Continue`.
    var putPlan: S3Handlers.PutPlan?
    /// An UploadPart's checks, done before `100 Continue`.
    var partPlan: S3Handlers.PartPlan?
    /// The PutObject of a POST form: the body's length is the form's, not the file's.
    var isFormUpload = false

    /// Throws AccessDenied unless the caller may also do `action` (on a copy's source, a key of DeleteObjects).
    func require(_ action: IAMAction) async throws {
        try await access?.require(action, self)
    }

    /// A request header's value, or nil.
    public func header(_ name: String) -> String? {
        HTTPField.Name(name).flatMap { headers[$0] }
    }

    /// A request header's value with an empty value counted as absent.
    public func nonEmptyHeader(_ name: String) -> String? {
        header(name).flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// The connection a request arrived on, for policy conditions.
public struct ConnectionInfo: Sendable {
    public var remoteIP: String?
    public var isTLS = false
    /// The request came to the website listener: it is a website request whatever its host.
    public var isWebsite = false

    public init(remoteIP: String? = nil, isTLS: Bool = false, isWebsite: Bool = false) {
        self.remoteIP = remoteIP
        self.isTLS = isTLS
        self.isWebsite = isWebsite
    }
}

/// The authorizer, bound to one request, for handlers that touch more than the operation's own resource.
struct RequestAccess: Sendable {
    let authorizer: Authorizer

    /// Throws AccessDenied unless the caller may do `action`.
    func require(_ action: IAMAction, _ context: RequestContext) async throws {
        try await authorizer.require(action, context: context)
    }
}

/// Records that a request body was read to its end: an error sent before that leaves body bytes on the
/// connection, which then cannot carry another request.
public final class BodyProgress: Sendable {
    private let finished = Atomic<Bool>(false)

    func markFinished() { finished.store(true, ordering: .relaxed) }
    var isFinished: Bool { finished.load(ordering: .relaxed) }
}

/// Makes the `x-amz-request-id` values: 16 hex digits, unique per process.
enum RequestID {
    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        let hex = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// The `Date` header of responses: formatted once per second, not once per response.
enum DateHeader {
    private static let latest = Mutex<(second: Int, text: String)>((-1, ""))

    static func now() -> String {
        let now = Date()
        let second = Int(now.timeIntervalSince1970)
        if let text = latest.withLock({ $0.second == second ? $0.text : nil }) { return text }
        let text = HTTPDate.rfc1123(Date(timeIntervalSince1970: TimeInterval(second)))
        latest.withLock { $0 = (second, text) }
        return text
    }
}
