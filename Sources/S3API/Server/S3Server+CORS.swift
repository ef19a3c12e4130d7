import Foundation
import HTTPTypes
import HummingbirdCore
import ObjectStore
import S3Wire

/// CORS: `OPTIONS` preflights, answered without authentication from the bucket's rules, and the headers a
/// matching rule adds to every actual response (errors and 304s included), so a page can read them.
/// https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html
extension S3Server {
    static let accessControlRequestMethod = HTTPField.Name("Access-Control-Request-Method")!
    static let accessControlRequestHeaders = HTTPField.Name("Access-Control-Request-Headers")!
    static let accessControlAllowOrigin = HTTPField.Name("Access-Control-Allow-Origin")!
    static let accessControlAllowMethods = HTTPField.Name("Access-Control-Allow-Methods")!
    static let accessControlAllowHeaders = HTTPField.Name("Access-Control-Allow-Headers")!
    static let accessControlExposeHeaders = HTTPField.Name("Access-Control-Expose-Headers")!
    static let accessControlMaxAge = HTTPField.Name("Access-Control-Max-Age")!
    static let accessControlAllowCredentials = HTTPField.Name("Access-Control-Allow-Credentials")!

    func preflight(_ request: Request) async -> S3Response {
        let requestID = RequestID.make()
        let (rawPath, _) = Self.split(request.head.path ?? "/")
        let resource = Percent.decode(rawPath, plusIsSpace: false) ?? rawPath
        func failure(_ error: S3Error) -> S3Response {
            finish(error.response(resource: resource, requestID: requestID, hostID: hostID, isHead: false), requestID: requestID)
        }
        guard let origin = request.headers[.origin] else {
            return failure(S3Error(.badRequest, "Insufficient information. Origin request header needed."))
        }
        guard let method = request.headers[Self.accessControlRequestMethod]?.trimmingCharacters(in: .whitespaces), !method.isEmpty else {
            return failure(S3Error(.badRequest, "Invalid Access-Control-Request-Method: null"))
        }
        let headers = (request.headers[Self.accessControlRequestHeaders] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        guard let target = try? RequestTarget(rawPath: rawPath, host: request.head.authority, domain: configuration.domain),
              let bucket = target.bucket
        else { return failure(S3Error(.badRequest, "A CORS preflight names a bucket or an object.")) }
        let rules = ((try? await authorizer.bucketAccess(bucket)) ?? nil)?.cors
        guard let rules else {
            return failure(S3Error(.accessForbidden, "CORSResponse: CORS is not enabled for this bucket.",
                                   details: [("Method", method), ("ResourceType", target.key == nil ? "BUCKET" : "OBJECT")]))
        }
        guard let rule = rules.first(where: { $0.allows(origin: origin, method: method, headers: headers) }) else {
            return failure(S3Error(
                .accessForbidden,
                "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
                details: [("Method", method), ("ResourceType", target.key == nil ? "BUCKET" : "OBJECT")]))
        }
        var response = S3Response.empty(.ok)
        Self.addHeaders(of: rule, origin: origin, to: &response)
        if !headers.isEmpty { response.headers[Self.accessControlAllowHeaders] = headers.joined(separator: ", ") }
        if let maxAge = rule.maxAgeSeconds { response.headers[Self.accessControlMaxAge] = String(maxAge) }
        response.headers[.vary] = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
        return finish(response, requestID: requestID)
    }

    /// Adds the first matching rule's headers to the answer to an actual request from `Origin`.
    func addCORSHeaders(for request: Request, to response: inout S3Response) async {
        guard let origin = request.headers[.origin] else { return }
        let (rawPath, _) = Self.split(request.head.path ?? "/")
        guard let target = try? RequestTarget(rawPath: rawPath, host: request.head.authority, domain: configuration.domain),
              let bucket = target.bucket, bucket != S3Endpoint.adminBucket,
              let rules = ((try? await authorizer.bucketAccess(bucket)) ?? nil)?.cors
        else { return }
        // A request may name the method its page means (the suite's clients send it on actual requests too).
        let method = request.headers[Self.accessControlRequestMethod] ?? request.method.rawValue
        guard let rule = rules.first(where: { $0.allows(origin: origin, method: method, headers: []) }) else { return }
        Self.addHeaders(of: rule, origin: origin, to: &response)
        response.headers[.vary] = "Origin"
    }

    private static func addHeaders(of rule: CORSRule, origin: String, to response: inout S3Response) {
        let allowOrigin = rule.allowOrigin(for: origin)
        response.headers[accessControlAllowOrigin] = allowOrigin
        response.headers[accessControlAllowMethods] = rule.allowedMethods.joined(separator: ", ")
        if !rule.exposeHeaders.isEmpty { response.headers[accessControlExposeHeaders] = rule.exposeHeaders.joined(separator: ", ") }
        if allowOrigin != "*" { response.headers[accessControlAllowCredentials] = "true" }
    }
}
