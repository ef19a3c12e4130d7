import Foundation
import HTTPTypes
import HummingbirdCore
import NIOCore
import ObjectStore
import S3Auth
import S3Wire

/// The static website endpoint: anonymous GET and HEAD of a bucket configured as a website, on the website
/// listener or by host name (`bucket.<website domain>`). Objects are read through the same authorizer and GET
/// handler as the S3 API, as an anonymous caller, so the bucket's policy and Block Public Access decide what is
/// public; errors are HTML pages, or the bucket's error document.
extension S3Server {
    /// The bucket a website request addresses, or nil for an S3 API request.
    func websiteBucket(_ request: Request, connection: ConnectionInfo) -> String? {
        guard connection.isWebsite || configuration.websiteDomain != nil else { return nil }
        guard let authority = request.head.authority else { return nil }
        let host = Self.hostName(authority)
        if let domain = configuration.websiteDomain?.lowercased(), host.count > domain.count + 1, host.hasSuffix("." + domain) {
            return String(host.dropLast(domain.count + 1))
        }
        // On the website listener a host outside the domain names its bucket whole, as a CNAME to S3 does.
        return connection.isWebsite ? host : nil
    }

    static func hostName(_ authority: String) -> String {
        var host = authority.lowercased()
        if host.hasPrefix("[") { return host }
        if let colon = host.lastIndex(of: ":") { host = String(host[..<colon]) }
        return host
    }

    func serveWebsite(_ request: Request, bucket: String, connection: ConnectionInfo) async -> S3Response {
        let requestID = RequestID.make()
        let isHead = request.method == .head
        guard request.method == .get || isHead else {
            return websiteError(S3Error(.methodNotAllowed, details: [("Method", request.method.rawValue)]), requestID: requestID, isHead: isHead)
        }
        let (rawPath, rawQuery) = Self.split(request.head.path ?? "/")
        guard let path = Percent.decode(rawPath, plusIsSpace: false) else {
            return websiteError(S3Error(.invalidArgument, "Couldn't parse the specified URI."), requestID: requestID, isHead: isHead)
        }
        let website: WebsiteConfiguration
        do {
            guard let access = try await authorizer.bucketAccess(bucket) else {
                return websiteError(S3Error.noSuchBucket(bucket), requestID: requestID, isHead: isHead)
            }
            guard let configured = access.website else {
                return websiteError(S3Error(.noSuchWebsiteConfiguration, details: [("BucketName", bucket)]), requestID: requestID, isHead: isHead)
            }
            website = configured
        } catch {
            return websiteError(S3Error(.internalError), requestID: requestID, isHead: isHead)
        }
        let scheme = connection.isTLS ? "https" : "http"
        let host = request.head.authority ?? "localhost"
        if let all = website.redirectAll {
            let location = "\(all.protocol ?? scheme)://\(all.hostName)\(rawPath)" + (rawQuery.isEmpty ? "" : "?" + rawQuery)
            return redirect(to: location, status: 301, requestID: requestID)
        }
        let requested = String(path.dropFirst())
        if let rule = website.rule(for: requested, errorCode: nil) {
            let (url, status) = WebsiteConfiguration.location(
                of: rule.redirect, key: requested, matchedPrefix: rule.keyPrefixEquals, requestHost: host, requestScheme: scheme,
                encodeKey: Self.encodeKey)
            return redirect(to: url, status: status, requestID: requestID)
        }
        let suffix = website.indexSuffix ?? "index.html"
        let key = requested.isEmpty || requested.hasSuffix("/") ? requested + suffix : requested
        let outcome = await anonymousRead(request, bucket: bucket, key: key, connection: connection, requestID: requestID)
        switch outcome {
        case .success(var response):
            if let location = response.headers[.amzWebsiteRedirectLocation] {
                return redirect(to: location, status: 301, requestID: requestID)
            }
            response.headers[.amzWebsiteRedirectLocation] = nil
            return response
        case .failure(let error):
            let status = Int(error.code.status.code)
            if status == 404 || status == 403, !requested.isEmpty, !requested.hasSuffix("/") {
                // A "folder" without its slash: AWS sends the browser to the folder, whose index it then serves.
                let folderIndex = requested + "/" + suffix
                if case .success = await anonymousRead(request, bucket: bucket, key: folderIndex, connection: connection,
                                                        requestID: requestID, probe: true) {
                    return redirect(to: "/" + Self.encodeKey(requested) + "/", status: 302, requestID: requestID)
                }
            }
            if let rule = website.rule(for: requested, errorCode: status) {
                let (url, redirectStatus) = WebsiteConfiguration.location(
                    of: rule.redirect, key: requested, matchedPrefix: rule.keyPrefixEquals, requestHost: host, requestScheme: scheme,
                    encodeKey: Self.encodeKey)
                return redirect(to: url, status: redirectStatus, requestID: requestID)
            }
            if (400..<500).contains(status), let errorKey = website.errorKey,
               case .success(var document) = await anonymousRead(
                   request, bucket: bucket, key: errorKey, connection: connection, requestID: requestID, probe: isHead, plain: true) {
                document.status = error.code.status
                return document
            }
            return websiteError(error, key: key, requestID: requestID, isHead: isHead)
        }
    }

    /// GET (or HEAD, with `probe`) of one object as an anonymous caller, through the authorizer and the GET handler.
    /// `plain` drops the request's conditional and range headers (an error document is sent whole).
    private func anonymousRead(
        _ request: Request, bucket: String, key: String, connection: ConnectionInfo, requestID: String,
        probe: Bool = false, plain: Bool = false
    ) async -> Result<S3Response, S3Error> {
        var headers = HTTPFields()
        if !plain {
            for field in request.headers where Self.forwardedReadHeaders.contains(field.name.canonicalName) { headers.append(field) }
        }
        let isHead = probe || request.method == .head
        let endpoint: S3Endpoint = isHead ? .headObject(bucket: bucket, key: key) : .getObject(bucket: bucket, key: key)
        do {
            var context = RequestContext(
                requestID: requestID, method: isHead ? .head : .get, headers: headers,
                target: try RequestTarget(rawPath: "/" + bucket + "/" + Percent.encode(key, keepSlash: true), host: nil, domain: nil),
                query: try QueryParameters(rawQuery: ""),
                auth: VerifiedRequest(accessKey: nil, caller: .anonymous, signatureVersion: .anonymous, payload: .unsigned, isPresigned: false),
                endpoint: endpoint, authority: request.head.authority, connection: connection)
            context.access = RequestAccess(authorizer: authorizer)
            try await authorizer.authorize(context)
            return .success(finish(try await handlers.handle(context, body: RequestBody(buffer: ByteBuffer())), requestID: requestID))
        } catch let error as S3Error {
            return .failure(error)
        } catch let error as StoreError {
            return .failure(S3Error.from(error, bucket: bucket, key: key))
        } catch {
            logger.error("server fault", metadata: ["request-id": "\(requestID)", "error": "\(error)"])
            return .failure(S3Error(.internalError))
        }
    }

    /// What a browser's GET may carry that the GET handler answers: conditions and ranges.
    static let forwardedReadHeaders: Set<String> = ["range", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since"]

    private func redirect(to location: String, status: Int, requestID: String) -> S3Response {
        var headers = HTTPFields()
        headers[.location] = Self.escapeForLocation(location)
        return finish(.empty(HTTPResponse.Status(code: status), headers: headers), requestID: requestID)
    }

    /// A decoded key as a URL path: UTF-8, every byte but RFC 3986's unreserved characters and `/` as `%XX`
    /// (a space is `%20`, never `+`), as S3 encodes keys in URLs.
    static func encodeKey(_ key: String) -> String {
        Percent.encode(key, keepSlash: true)
    }

    /// A URL written by someone else (an object's x-amz-website-redirect-location, a redirect-all host and the
    /// request's own path) with the bytes no URL may hold percent-encoded: controls, space, DEL, the characters
    /// " < > \ ^ ` { | } and everything past ASCII (as UTF-8). What is already valid, `%XX` escapes included, is
    /// left as written, so an encoded key passes unchanged.
    static func escapeForLocation(_ url: String) -> String {
        let bytes = Array(url.utf8)
        var out = ""
        out.reserveCapacity(bytes.count)
        for (index, byte) in bytes.enumerated() {
            // A `%` that begins no escape ("100%") is a byte like any other.
            let isEscape = byte == UInt8(ascii: "%") && index + 2 < bytes.count
                && Self.isHex(bytes[index + 1]) && Self.isHex(bytes[index + 2])
            if byte > 0x20, byte < 0x7F, !Self.notInURLs.contains(byte), byte != UInt8(ascii: "%") || isEscape {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                out += byte < 16 ? "%0\(hex)" : "%\(hex)"
            }
        }
        return out
    }

    private static let notInURLs: Set<UInt8> = Set(#""<>\^`{|}"#.utf8)

    private static func isHex(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"), UInt8(ascii: "A")...UInt8(ascii: "F"): true
        default: false
        }
    }

    /// AWS's HTML error page of the website endpoint.
    func websiteError(_ error: S3Error, key: String? = nil, requestID: String, isHead: Bool) -> S3Response {
        let status = error.code.status
        var items = [("Code", error.code.rawValue), ("Message", error.message)]
        items += error.details.filter { $0.0 == "BucketName" || $0.0 == "Key" }
        if let key, error.code == .noSuchKey, !items.contains(where: { $0.0 == "Key" }) { items.append(("Key", key)) }
        items += [("RequestId", requestID), ("HostId", hostID)]
        let title = "\(status.code) \(status.reasonPhrase)"
        let list = items.map { "<li>\($0.0): \(XMLWriter.escape($0.1))</li>" }.joined(separator: "\n")
        let page = "<html>\n<head><title>\(title)</title></head>\n<body>\n<h1>\(title)</h1>\n<ul>\n\(list)\n</ul>\n<hr/>\n</body>\n</html>\n"
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.contentLength] = String(page.utf8.count)
        let body: ResponseBody = isHead ? ResponseBody() : ResponseBody(byteBuffer: ByteBuffer(string: page))
        return finish(S3Response(status: status, headers: headers, body: body), requestID: requestID)
    }
}

extension HTTPField.Name {
    static let amzWebsiteRedirectLocation = HTTPField.Name("x-amz-website-redirect-location")!
}
