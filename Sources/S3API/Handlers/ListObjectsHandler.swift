import Foundation
import ObjectStore
import S3Wire

/// ListObjects (V1) and ListObjectsV2.
extension S3Handlers {
    enum ListVersion { case v1, v2 }

    func listObjects(_ bucket: String, _ context: RequestContext, version: ListVersion) async throws -> S3Response {
        let owner = await bucketOwner(bucket)
        let q = context.query
        let maxKeys = try Self.maxKeys(q["max-keys"])
        let encodeURL: Bool
        switch q["encoding-type"] {
        case nil: encodeURL = false
        case "url"?: encodeURL = true
        case let other?:
            throw S3Error(.invalidArgument, "Invalid Encoding Method specified in Request",
                          details: [("ArgumentName", "encoding-type"), ("ArgumentValue", other)])
        }
        let prefix = q["prefix"] ?? ""
        let delimiter = q["delimiter"].flatMap { $0.isEmpty ? nil : $0 }
        let continuationToken = q["continuation-token"]
        let after: String?
        switch version {
        case .v1:
            after = q["marker"].flatMap { $0.isEmpty ? nil : $0 }
        case .v2:
            if let continuationToken {
                guard let decoded = ContinuationToken.decode(continuationToken) else {
                    throw S3Error(.invalidArgument, "The continuation token provided is incorrect",
                                  details: [("ArgumentName", "continuation-token")])
                }
                after = decoded
            } else {
                after = q["start-after"].flatMap { $0.isEmpty ? nil : $0 }
            }
        }
        _ = try await requireBucket(bucket)
        let page = try await storage.lister.list(
            bucket: bucket, query: ListQuery(prefix: prefix, delimiter: delimiter, after: after, maxKeys: maxKeys))

        let encode: (String) -> String = encodeURL ? { Percent.encode($0, keepSlash: true) } : { $0 }
        var xml = XMLWriter()
        xml.element("ListBucketResult", namespace: XMLWriter.s3Namespace) { x in
            x.element("Name", bucket)
            x.element("Prefix", encode(prefix))
            switch version {
            case .v1:
                x.element("Marker", encode(q["marker"] ?? ""))
            case .v2:
                if let startAfter = q["start-after"] { x.element("StartAfter", encode(startAfter)) }
                if let continuationToken { x.element("ContinuationToken", continuationToken) }
                x.element("KeyCount", page.objects.count + page.commonPrefixes.count)
            }
            x.element("MaxKeys", maxKeys)
            if let delimiter { x.element("Delimiter", encode(delimiter)) }
            if encodeURL { x.element("EncodingType", "url") }
            x.element("IsTruncated", page.isTruncated)
            if page.isTruncated, let last = page.lastEntry {
                switch version {
                // V1 names the next marker only when a delimiter is in play; otherwise the last key serves.
                case .v1: if delimiter != nil { x.element("NextMarker", encode(last)) }
                case .v2: x.element("NextContinuationToken", ContinuationToken.encode(last))
                }
            }
            let withOwner = version == .v1 || q["fetch-owner"] == "true"
            for object in page.objects {
                x.element("Contents") { c in
                    c.element("Key", encode(object.key))
                    c.element("LastModified", HTTPDate.iso8601(object.lastModified))
                    c.element("ETag", "\"\(object.etag)\"")
                    if let checksum = object.checksum {
                        c.element("ChecksumAlgorithm", checksum.algorithm)
                        c.element("ChecksumType", checksum.type)
                    }
                    c.element("Size", object.size)
                    if withOwner {
                        // An object written under ObjectWriter belongs to its writer.
                        let objectOwner = object.metadata.acl.map { self.owner(ofAccount: $0.owner) } ?? owner
                        c.element("Owner") { o in
                            o.element("ID", objectOwner.id)
                            o.element("DisplayName", objectOwner.displayName)
                        }
                    }
                    c.element("StorageClass", object.metadata.storageClass ?? "STANDARD")
                }
            }
            for commonPrefix in page.commonPrefixes {
                x.element("CommonPrefixes") { p in p.element("Prefix", encode(commonPrefix)) }
            }
        }
        return .xml(xml)
    }

    static func maxKeys(_ raw: String?) throws(S3Error) -> Int {
        try RequestNumber.count(raw, name: "max-keys", limit: 1000)
    }
}

/// V2 continuation tokens: opaque to clients; here the last entry of the previous page, base64-encoded.
enum ContinuationToken {
    static func encode(_ lastEntry: String) -> String {
        Data(lastEntry.utf8).base64EncodedString()
    }

    static func decode(_ token: String) -> String? {
        Data(base64Encoded: token).flatMap { String(data: $0, encoding: .utf8) }
    }
}
