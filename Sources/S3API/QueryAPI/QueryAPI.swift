import Digest
import Foundation
import HTTPTypes
import HummingbirdCore
import Logging
import ObjectStore
import S3Auth
import S3Wire

/// The AWS query APIs Martlet serves on its S3 port: IAM (users, access keys, inline policies) and STS
/// (GetCallerIdentity). A form-encoded `POST /` signed for the service `iam` or `sts`, answered in AWS's XML.
struct QueryAPI: Sendable {
    static let services: Set<String> = ["iam", "sts"]
    static let maxBodyBytes = 256 << 10
    let directory: IdentityDirectory
    let logger: Logger

    /// A POST to the service root: S3 has no such operation, so it is the query API's.
    static func addresses(_ request: Request, domain: String?) -> Bool {
        guard request.method == .post, let path = request.head.path else { return false }
        let rawPath = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        guard rawPath == "/" || rawPath.isEmpty else { return false }
        // A virtual-hosted bucket's root is a bucket request (POST Object), not the service's.
        if let domain, let host = request.head.authority?.split(separator: ":").first, host.hasSuffix("." + domain) {
            return false
        }
        return true
    }

    /// `requestID` goes in the XML and `x-amzn-RequestId`; the server sends it as `x-amz-request-id` too.
    func respond(to request: Request, requestID: String, authenticator: RequestAuthenticator) async -> S3Response {
        var service = "iam"
        do {
            let body = try await collect(request.body)
            let form = Self.parseForm(body)
            let auth = try authenticate(request, body: body, authenticator: authenticator)
            service = auth.service
            guard let action = form["Action"] else {
                throw QueryError(.sender, "MissingAction", "Missing Action", status: .badRequest)
            }
            var response: S3Response
            switch auth.service {
            case "sts": response = try sts(action, form: form, caller: auth.caller, requestID: requestID)
            case "iam": response = try await IAMActions(directory: directory, caller: auth.caller, form: form, requestID: requestID).run(action)
            default: throw QueryError(.sender, "InvalidAction", "The action \(action) is not valid for this endpoint.", status: .badRequest)
            }
            response.headers[HTTPField.Name("x-amzn-RequestId")!] = requestID
            return response
        } catch let error as QueryError {
            return error.response(service: service, requestID: requestID)
        } catch {
            logger.error("server fault", metadata: ["request-id": "\(requestID)", "error": "\(error)"])
            return QueryError(.receiver, "ServiceFailure", "An internal error occurred.", status: .internalServerError)
                .response(service: service, requestID: requestID)
        }
    }

    private func collect(_ body: RequestBody) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await buffer in body {
            guard bytes.count + buffer.readableBytes <= Self.maxBodyBytes else {
                throw QueryError(.sender, "RequestEntityTooLarge", "The request body is too large.", status: .contentTooLarge)
            }
            bytes.append(contentsOf: buffer.readableBytesView)
        }
        return bytes
    }

    private func authenticate(_ request: Request, body: [UInt8], authenticator: RequestAuthenticator) throws -> VerifiedRequest {
        var headers: [(name: String, value: String)] = []
        if let authority = request.head.authority { headers.append(("host", authority)) }
        for field in request.headers { headers.append((field.name.canonicalName, field.value)) }
        let (path, query) = S3Server.split(request.head.path ?? "/")
        var parts = HTTPRequestParts(method: request.method.rawValue, rawPath: path, rawQuery: query, headers: headers)
        parts.bodySHA256 = SHA256.hash(body).hexString
        let auth: VerifiedRequest
        do {
            auth = try authenticator.authenticate(parts, now: Date())
        } catch {
            throw QueryError.from(error)
        }
        guard auth.caller != .anonymous else {
            throw QueryError(.sender, "MissingAuthenticationToken", "Request is missing Authentication Token", status: .forbidden)
        }
        guard auth.signatureVersion == .v4, Self.services.contains(auth.service) else {
            throw QueryError(.sender, "InvalidClientTokenId", "Sign the request with SigV4 for the service iam or sts.", status: .forbidden)
        }
        return auth
    }

    /// `application/x-www-form-urlencoded`: later values of a name replace earlier ones.
    static func parseForm(_ body: [UInt8]) -> [String: String] {
        QueryForm.parse(body)
    }

    private func sts(_ action: String, form: [String: String], caller: Caller, requestID: String) throws -> S3Response {
        guard action == "GetCallerIdentity" else {
            throw QueryError(.sender, "InvalidAction", "Could not find operation \(action) for version 2011-06-15", status: .badRequest)
        }
        guard let account = caller.account, let arn = caller.arn else { throw QueryError.accessDenied }
        let userID: String
        switch caller {
        case .user(_, _, let id): userID = id
        default: userID = account.id
        }
        return QueryXML.response(action, namespace: QueryXML.stsNamespace, requestID: requestID) { x in
            x.element("UserId", userID)
            x.element("Account", account.id)
            x.element("Arn", arn)
        }
    }
}

/// An error in the query APIs' `ErrorResponse` shape.
struct QueryError: Error {
    enum Kind: String { case sender = "Sender", receiver = "Receiver" }
    var kind: Kind
    var code: String
    var message: String
    var status: HTTPResponse.Status

    init(_ kind: Kind, _ code: String, _ message: String, status: HTTPResponse.Status) {
        self.kind = kind
        self.code = code
        self.message = message
        self.status = status
    }

    static let accessDenied = QueryError(.sender, "AccessDenied", "User is not authorized to perform this action.", status: .forbidden)

    static func from(_ failure: AuthFailure) -> QueryError {
        switch failure.code {
        case .invalidAccessKeyId:
            QueryError(.sender, "InvalidClientTokenId", "The security token included in the request is invalid.", status: .forbidden)
        case .signatureDoesNotMatch:
            QueryError(.sender, "SignatureDoesNotMatch", failure.message, status: .forbidden)
        case .requestTimeTooSkewed:
            QueryError(.sender, "RequestExpired", "Request has expired.", status: .badRequest)
        case .accessDenied:
            QueryError(.sender, "AccessDenied", failure.message, status: .forbidden)
        default:
            QueryError(.sender, "IncompleteSignature", failure.message, status: .badRequest)
        }
    }

    static func from(_ error: IdentityError) -> QueryError {
        switch error {
        case .noSuchEntity(let message): QueryError(.sender, "NoSuchEntity", message, status: .notFound)
        case .entityAlreadyExists(let message): QueryError(.sender, "EntityAlreadyExists", message, status: .conflict)
        case .deleteConflict(let message): QueryError(.sender, "DeleteConflict", message, status: .conflict)
        case .limitExceeded(let message): QueryError(.sender, "LimitExceeded", message, status: .conflict)
        }
    }

    func response(service: String, requestID: String) -> S3Response {
        var xml = XMLWriter()
        xml.element("ErrorResponse", namespace: service == "sts" ? QueryXML.stsNamespace : QueryXML.iamNamespace) { x in
            x.element("Error") { e in
                e.element("Type", kind.rawValue)
                e.element("Code", code)
                e.element("Message", message)
            }
            x.element("RequestId", requestID)
        }
        var response = S3Response.xml(xml, status: status)
        response.headers[.contentType] = "text/xml"
        response.headers[HTTPField.Name("x-amzn-RequestId")!] = requestID
        return response
    }
}

/// The query APIs' response envelope: `<ActionResponse><ActionResult>...</ActionResult><ResponseMetadata>`.
enum QueryXML {
    static let iamNamespace = "https://iam.amazonaws.com/doc/2010-05-08/"
    static let stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

    static func response(
        _ action: String, namespace: String = iamNamespace, requestID: String, result: ((inout XMLWriter) -> Void)?
    ) -> S3Response {
        var xml = XMLWriter()
        xml.element(action + "Response", namespace: namespace) { x in
            if let result { x.element(action + "Result", result) }
            x.element("ResponseMetadata") { m in m.element("RequestId", requestID) }
        }
        var response = S3Response.xml(xml)
        response.headers[.contentType] = "text/xml"
        return response
    }
}
