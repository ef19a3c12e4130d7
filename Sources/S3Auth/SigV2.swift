import Digest
import Foundation

/// AWS Signature Version 2 for S3:
/// https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html
enum SigV2 {
    /// Query parameters that name a sub-resource and so are part of CanonicalizedResource: the
    /// documented list plus the later ones botocore's HmacV1Auth signs (the V2 client most in use).
    static let subResources: Set<String> = [
        "accelerate", "acl", "analytics", "cors", "defaultObjectAcl", "delete", "inventory", "lifecycle",
        "location", "logging", "metrics", "notification", "object-lock", "partNumber", "policy", "replication",
        "requestPayment", "restore", "select", "select-type", "storageClass", "tagging", "torrent", "uploadId",
        "uploads", "versionId", "versioning", "versions", "website",
        "response-cache-control", "response-content-disposition", "response-content-encoding",
        "response-content-language", "response-content-type", "response-expires",
    ]

    /// StringToSign = Method \n Content-MD5 \n Content-Type \n Date \n CanonicalizedAmzHeaders CanonicalizedResource.
    /// `date` is the Date header (empty when x-amz-date is present) or, for query auth, Expires.
    static func stringToSign(
        method: String, contentMD5: String, contentType: String, date: String,
        amzHeaders: [(name: String, value: String)], resource: String
    ) -> String {
        method + "\n" + contentMD5 + "\n" + contentType + "\n" + date + "\n"
            + canonicalAmzHeaders(amzHeaders) + resource
    }

    /// CanonicalizedAmzHeaders: x-amz-* names lowercased, sorted, repeated values joined with ',',
    /// values trimmed, one "name:value\n" each.
    static func canonicalAmzHeaders(_ headers: [(name: String, value: String)]) -> String {
        var merged: [String: [String]] = [:]
        for header in headers {
            let name = asciiLowercased(header.name)
            guard name.hasPrefix("x-amz-") else { continue }
            merged[name, default: []].append(String(header.value[...].trimmingSpaces))
        }
        return merged.keys.sorted().map { $0 + ":" + merged[$0]!.joined(separator: ",") + "\n" }.joined()
    }

    /// CanonicalizedResource: the path (always "/bucket/key" form) plus the sub-resource query
    /// parameters, sorted by name, values percent-decoded, "name" alone when it had no '='.
    static func canonicalResource(path: String, query: QueryParameters) -> String {
        let items = query.items
            .map { (name: PercentEncoding.decodedString($0.rawName, plusAsSpace: false), raw: $0.rawValue) }
            .filter { subResources.contains($0.name) }
            .sorted { $0.name < $1.name }
        guard !items.isEmpty else { return path }
        return path + "?" + items.map { item in
            guard let raw = item.raw else { return item.name }
            return item.name + "=" + PercentEncoding.decodedString(raw, plusAsSpace: false)
        }.joined(separator: "&")
    }

    /// Base64(HMAC-SHA1(secret, StringToSign)).
    static func signature(secretKey: String, stringToSign: String) -> [UInt8] {
        HMAC.sha1(key: Array(secretKey.utf8), message: stringToSign.utf8)
    }
}

extension RequestAuthenticator {
    /// Verifies `Authorization: AWS AccessKeyId:Signature`.
    func authenticateV2Header(
        _ request: HTTPRequestParts, credential: Substring, now: Date
    ) throws(AuthFailure) -> VerifiedRequest {
        guard let colon = credential.lastIndex(of: ":") else {
            throw .unsupportedAuthorization("AWS " + credential)
        }
        let accessKey = String(credential[..<colon].trimmingSpaces)
        let signature = String(credential[credential.index(after: colon)...].trimmingSpaces)
        let found = try self.credential(for: accessKey)
        let secret = found.secretKey
        let time = try requestTime(request)
        try checkSkew(requestTime: time.text, date: time.date, now: now)
        // With x-amz-date present, the Date line is empty (x-amz-date is signed among the amz headers).
        let dateLine = request.value(of: "x-amz-date") == nil ? (request.value(of: "date") ?? "") : ""
        let payload = try PayloadMode.unsignedVerification(for: request)
        try verifyV2(
            request, query: QueryParameters(rawQuery: request.rawQuery), accessKey: accessKey, secret: secret,
            date: dateLine, amzHeaders: request.headers, provided: signature)
        return VerifiedRequest(accessKey: accessKey, caller: found.caller, signatureVersion: .v2, payload: payload, isPresigned: false)
    }

    /// Verifies a V2 presigned URL: `?AWSAccessKeyId=&Expires=&Signature=`.
    func authenticateV2Query(
        _ request: HTTPRequestParts, query: QueryParameters, now: Date
    ) throws(AuthFailure) -> VerifiedRequest {
        // The signature is base64: a raw '+' in it is a plus, not a form-encoded space.
        let rawSignature = query.items.first { $0.name == "Signature" }?.rawValue
        guard let accessKey = query.value(of: "AWSAccessKeyId"), let rawSignature,
            let expiresText = query.value(of: "Expires")
        else {
            throw AuthFailure(
                code: .accessDenied,
                message: "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters")
        }
        guard let expires = Int64(expiresText) else {
            throw AuthFailure(
                code: .accessDenied, message: "Invalid date (should be seconds since epoch): \(expiresText)")
        }
        let found = try self.credential(for: accessKey)
        let secret = found.secretKey
        let expiry = Date(timeIntervalSince1970: TimeInterval(expires))
        guard now <= expiry else {
            throw .expired(details: [
                ("Expires", AWSDate.iso8601Extended(expiry)), ("ServerTime", AWSDate.iso8601Extended(now)),
            ])
        }
        // Presigners (botocore's HmacV1QueryAuth) move x-amz-*, Content-Type and Content-MD5 into
        // the query; a header sent with the request takes precedence over its query copy.
        var signedHeaders = request.headers
        for item in query.items {
            let name = asciiLowercased(item.name)
            let isSignedHeader = name.hasPrefix("x-amz-") || name == "content-type" || name == "content-md5"
            if isSignedHeader, request.value(of: name) == nil {
                signedHeaders.append((name, item.value))
            }
        }
        let payload = try PayloadMode.unsignedVerification(for: request)
        let merged = HTTPRequestParts(
            method: request.method, rawPath: request.rawPath, rawQuery: request.rawQuery, headers: signedHeaders,
            sigV2ResourcePath: request.sigV2ResourcePath)
        try verifyV2(
            merged, query: query, accessKey: accessKey, secret: secret, date: expiresText, amzHeaders: signedHeaders,
            provided: PercentEncoding.decodedString(rawSignature, plusAsSpace: false))
        return VerifiedRequest(accessKey: accessKey, caller: found.caller, signatureVersion: .v2, payload: payload, isPresigned: true)
    }

    /// Tries the path as sent, then the strictly re-encoded path (clients that sign a different
    /// escaping than they send), then a bucket path with its trailing slash, and throws SignatureDoesNotMatch if neither matches.
    private func verifyV2(
        _ request: HTTPRequestParts, query: QueryParameters, accessKey: String, secret: String, date: String,
        amzHeaders: [(name: String, value: String)], provided: String
    ) throws(AuthFailure) {
        let providedBytes = decodeBase64(provided)
        let resourcePath = request.sigV2ResourcePath ?? request.rawPath
        let wirePath = resourcePath.isEmpty ? "/" : resourcePath
        let strictPath = SigV4.canonicalURI(rawPath: resourcePath)
        var candidates = wirePath == strictPath ? [wirePath] : [wirePath, strictPath]
        // A bucket's resource is "/bucket/" in AWS's spec (and botocore signs that), though the request
        // line may say "/bucket".
        if wirePath.dropFirst().firstIndex(of: "/") == nil, wirePath != "/" {
            candidates.append(wirePath + "/")
        }
        var firstStringToSign: String?
        for path in candidates {
            let toSign = SigV2.stringToSign(
                method: request.method,
                contentMD5: request.value(of: "content-md5").map { String($0[...].trimmingSpaces) } ?? "",
                contentType: request.value(of: "content-type").map { String($0[...].trimmingSpaces) } ?? "",
                date: date, amzHeaders: amzHeaders, resource: SigV2.canonicalResource(path: path, query: query))
            let expected = SigV2.signature(secretKey: secret, stringToSign: toSign)
            if let providedBytes, constantTimeEquals(expected, providedBytes) {
                return
            }
            if firstStringToSign == nil { firstStringToSign = toSign }
        }
        let toSign = firstStringToSign ?? ""
        throw .signatureMismatch(details: [
            ("AWSAccessKeyId", accessKey), ("StringToSign", toSign), ("SignatureProvided", provided),
            ("StringToSignBytes", SigV4.spacedHex(toSign)),
        ])
    }
}
