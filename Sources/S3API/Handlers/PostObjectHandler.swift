import Foundation
import HTTPTypes
import HummingbirdCore
import NIOCore
import ObjectStore
import S3Auth
import S3Wire

/// POST Object: a browser form upload. The form's fields arrive before its file; they sign the request, name the
/// key and carry what PutObject takes as headers. Once they are checked, the file streams through PutObject's
/// own write path, so the upload is hashed, verified and committed exactly as a PUT is.
extension S3Handlers {
    func postObject(_ bucket: String, _ context: RequestContext, body: RequestBody) async throws -> S3Response {
        guard let boundary = context.header("Content-Type").flatMap(MultipartFormReader.boundary(contentType:)) else {
            throw S3Error(.preconditionFailed, details: [("Condition", "Bucket POST must be of the enclosure-type multipart/form-data")])
        }
        let form = PostFormStream(body: body, boundary: boundary)
        var fields: [String: String] = [:]
        var filename: String?
        reading: while let event = try await form.next() {
            switch event {
            case .field(let name, let value):
                let name = name.lowercased()
                if fields[name] == nil { fields[name] = value }
            case .fileStart(let name, _):
                filename = name
                break reading
            case .fileData, .fileEnd:
                throw S3Error(.malformedPOSTRequest)
            }
        }
        guard var key = fields["key"] else {
            throw S3Error(.invalidArgument, "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.",
                          details: [("ArgumentName", "key")])
        }
        if let filename { key = key.replacingOccurrences(of: "${filename}", with: Self.baseName(filename)) }
        fields["key"] = key
        fields["bucket"] = bucket

        let upload = try await authorizedUpload(bucket, key, fields: fields, context)
        var plan = try await planPut(bucket, key, upload.context)
        if let limits = upload.policy?.lengthLimits {
            plan.expectations.maxSize = min(plan.expectations.maxSize, limits.maximum)
            plan.expectations.minSize = limits.minimum
        }
        var putContext = upload.context
        putContext.putPlan = plan
        let stored = try await ChangeOrigin.creating(.post) {
            try await putObject(bucket, key, putContext, body: RequestBody(asyncSequence: PostFileParts(form: form)))
        }
        return postResponse(bucket, key, fields: fields, stored: stored, context)
    }

    /// The PutObject the form asks for, as the caller its fields sign for, with the form's fields as headers,
    /// authorized like any other request.
    private func authorizedUpload(
        _ bucket: String, _ key: String, fields: [String: String], _ context: RequestContext
    ) async throws -> (context: RequestContext, policy: PostPolicy?) {
        let auth: VerifiedRequest
        let policy: PostPolicy?
        do {
            (auth, policy) = try authenticator.authenticatePost(fields: fields)
            try policy?.check(fields: fields, now: Date())
        } catch let failure as AuthFailure {
            throw S3Error.from(failure)
        }
        guard !key.isEmpty else { throw S3Error(.invalidArgument, "User key must have a length greater than 0.") }
        var upload = context
        upload.auth = auth
        upload.endpoint = .putObject(bucket: bucket, key: key)
        upload.headers = try Self.uploadHeaders(fields)
        upload.isFormUpload = true
        try await authorizer.authorize(upload)
        return (upload, policy)
    }

    /// Form fields that PutObject would take as headers; the rest are the form's own business.
    static func uploadHeaders(_ fields: [String: String]) throws -> HTTPFields {
        var headers = HTTPFields()
        for (name, value) in fields {
            let headerName: String
            switch name {
            case "acl": headerName = "x-amz-acl"
            case "tagging":
                let tags = try TagSet.parse(document: Array(value.utf8), limit: TagSet.maxObjectTags)
                headerName = "x-amz-tagging"
                let encoded = tags.map { Percent.encode($0.key) + "=" + Percent.encode($0.value) }.joined(separator: "&")
                if let field = HTTPField.Name(headerName) { headers[field] = encoded }
                continue
            case "content-type", "cache-control", "content-disposition", "content-encoding", "content-language", "expires",
                 "x-amz-storage-class", "x-amz-website-redirect-location":
                headerName = name
            default:
                guard uploadHeaderPrefixes.contains(where: name.hasPrefix) else { continue }
                headerName = name
            }
            // A value no HTTP header could carry (a line break) is refused rather than altered.
            guard let fieldName = HTTPField.Name(headerName), !value.contains(where: { $0 == "\r" || $0 == "\n" }) else {
                throw S3Error(.invalidArgument, "Invalid value for the form field \(name).", details: [("ArgumentName", name)])
            }
            headers[fieldName] = value
        }
        return headers
    }

    static let uploadHeaderPrefixes = ["x-amz-meta-", "x-amz-checksum-", "x-amz-object-lock-", "x-amz-server-side-encryption", "x-amz-grant-"]

    /// Browsers once sent the whole path of the chosen file; `${filename}` is its last component.
    static func baseName(_ filename: String) -> String {
        String(filename.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last ?? "")
    }

    /// What a successful form upload answers: a redirect to `success_action_redirect`, or the status
    /// `success_action_status` asks for (201 with a document), else 204.
    private func postResponse(
        _ bucket: String, _ key: String, fields: [String: String], stored: S3Response, _ context: RequestContext
    ) -> S3Response {
        var headers = HTTPFields()
        for name in [HTTPField.Name.eTag, .amzVersionID, .amzExpiration] { headers[name] = stored.headers[name] }
        for field in stored.headers where field.name.canonicalName.hasPrefix("x-amz-checksum-")
            || field.name.canonicalName.hasPrefix("x-amz-server-side-encryption") {
            headers.append(field)
        }
        let etag = stored.headers[.eTag] ?? ""
        let location = objectURL(bucket, key, context)
        headers[.location] = location
        if let redirect = fields["success_action_redirect"] ?? fields["redirect"], let target = URL(string: redirect),
           let scheme = target.scheme?.lowercased(), scheme == "http" || scheme == "https" {
            let query = "bucket=\(Percent.encode(bucket))&key=\(Percent.encode(key))&etag=\(Percent.encode(etag))"
            headers[.location] = redirect + (redirect.contains("?") ? "&" : "?") + query
            return .empty(.seeOther, headers: headers)
        }
        switch fields["success_action_status"] {
        case "200":
            return .empty(.ok, headers: headers)
        case "201":
            var xml = XMLWriter()
            xml.element("PostResponse") { x in
                x.element("Location", location)
                x.element("Bucket", bucket)
                x.element("Key", key)
                x.element("ETag", etag)
            }
            var response = S3Response.xml(xml, status: .created)
            for field in headers { response.headers[field.name] = field.value }
            return response
        default:
            return .empty(.noContent, headers: headers)
        }
    }

    /// The stored object's URL, in the style (path or virtual host) the form was posted in.
    private func objectURL(_ bucket: String, _ key: String, _ context: RequestContext) -> String {
        let scheme = context.connection.isTLS ? "https" : "http"
        let host = context.authority ?? "localhost"
        let encodedKey = Percent.encode(key, keepSlash: true)
        if host.lowercased().hasPrefix(bucket.lowercased() + ".") { return "\(scheme)://\(host)/\(encodedKey)" }
        return "\(scheme)://\(host)/\(bucket)/\(encodedKey)"
    }
}

/// A form body read event by event. One task reads it, first for the fields and then, through
/// ``PostFileParts``, for the file; the `Sendable` conformance only lets the file pass through `RequestBody`.
final class PostFormStream: @unchecked Sendable {
    private var iterator: RequestBody.AsyncIterator
    private var reader: MultipartFormReader

    init(body: RequestBody, boundary: String) {
        iterator = body.makeAsyncIterator()
        reader = MultipartFormReader(boundary: boundary)
    }

    func next() async throws -> MultipartFormReader.Event? {
        while true {
            if let event = try reader.next() { return event }
            if reader.isFinished { return nil }
            if let chunk = try await iterator.next() {
                reader.append(chunk)
            } else {
                reader.endInput()
            }
        }
    }
}

/// The file part's bytes, as a body PutObject's write path reads.
struct PostFileParts: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let form: PostFormStream

    struct AsyncIterator: AsyncIteratorProtocol {
        let form: PostFormStream

        mutating func next() async throws -> ByteBuffer? {
            switch try await form.next() {
            case .fileData(let bytes): return bytes
            case .fileEnd, nil: return nil
            case .field, .fileStart: throw S3Error(.malformedPOSTRequest)
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(form: form) }
}
