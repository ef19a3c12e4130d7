import Foundation
import ObjectStore
import S3Wire

/// ListParts and ListMultipartUploads.
extension S3Handlers {
    func listParts(_ bucket: String, _ key: String, uploadID: String, _ context: RequestContext) async throws -> S3Response {
        let owner = await bucketOwner(bucket)
        let maxParts = try Self.boundedCount(context.query["max-parts"], name: "max-parts", limit: 1000)
        let marker = try RequestNumber.partNumberMarker(context.query["part-number-marker"], name: "part-number-marker")
        guard let upload = try await storage.index.upload(bucket: bucket, key: key, uploadID: uploadID) else {
            _ = try await requireBucket(bucket)
            throw S3Error(.noSuchUpload, details: [("UploadId", uploadID)])
        }
        // One more than asked says whether the page is truncated.
        let fetched: [UploadedPart]
        do {
            fetched = try await storage.index.parts(bucket: bucket, key: key, uploadID: uploadID, after: marker, limit: maxParts + 1)
        } catch StoreError.noSuchUpload {
            throw S3Error(.noSuchUpload, details: [("UploadId", uploadID)])
        }
        let parts = fetched.prefix(maxParts)
        let isTruncated = fetched.count > maxParts
        let mode = MultipartChecksumMode(upload)
        var xml = XMLWriter()
        xml.element("ListPartsResult", namespace: XMLWriter.s3Namespace) { x in
            x.element("Bucket", bucket)
            x.element("Key", key)
            x.element("UploadId", uploadID)
            x.element("PartNumberMarker", marker)
            x.element("NextPartNumberMarker", parts.last?.number ?? 0)
            x.element("MaxParts", maxParts)
            x.element("IsTruncated", isTruncated)
            for part in parts {
                x.element("Part") { p in
                    p.element("PartNumber", part.number)
                    p.element("LastModified", HTTPDate.iso8601(part.lastModified))
                    p.element("ETag", "\"\(part.etag)\"")
                    p.element("Size", part.size)
                    if mode.requested { Self.writeChecksumElements(part.checksum, into: &p, withType: false) }
                }
            }
            // The upload's owner is who will own the object: its writer under ObjectWriter.
            let uploadOwner = upload.metadata.acl.map { self.owner(ofAccount: $0.owner) } ?? owner
            writeOwner("Initiator", uploadOwner, into: &x)
            writeOwner("Owner", uploadOwner, into: &x)
            x.element("StorageClass", upload.metadata.storageClass ?? "STANDARD")
            if mode.requested {
                x.element("ChecksumAlgorithm", mode.algorithm.rawValue)
                x.element("ChecksumType", mode.type)
            }
        }
        return .xml(xml)
    }

    func listMultipartUploads(_ bucket: String, _ context: RequestContext) async throws -> S3Response {
        let owner = await bucketOwner(bucket)
        let q = context.query
        let maxUploads = try Self.boundedCount(q["max-uploads"], name: "max-uploads", limit: 1000)
        let encodeURL = try Self.encodingType(q["encoding-type"])
        let prefix = q["prefix"] ?? ""
        let delimiter = q["delimiter"].flatMap { $0.isEmpty ? nil : $0 }
        let keyMarker = q["key-marker"].flatMap { $0.isEmpty ? nil : $0 }
        // S3 ignores upload-id-marker without key-marker.
        let uploadIDMarker = keyMarker == nil ? nil : q["upload-id-marker"].flatMap { $0.isEmpty ? nil : $0 }
        _ = try await requireBucket(bucket)
        let page = try await storage.uploadLister.list(
            bucket: bucket, prefix: prefix, delimiter: delimiter,
            after: keyMarker.map { UploadMarker(key: $0, uploadID: uploadIDMarker) }, maxUploads: maxUploads)

        let encode: (String) -> String = encodeURL ? { Percent.encode($0, keepSlash: true) } : { $0 }
        var xml = XMLWriter()
        xml.element("ListMultipartUploadsResult", namespace: XMLWriter.s3Namespace) { x in
            x.element("Bucket", bucket)
            x.element("KeyMarker", encode(keyMarker ?? ""))
            x.element("UploadIdMarker", uploadIDMarker ?? "")
            if page.isTruncated, let next = page.next {
                x.element("NextKeyMarker", encode(next.key))
                x.element("NextUploadIdMarker", next.uploadID ?? "")
            } else {
                x.element("NextKeyMarker", "")
                x.element("NextUploadIdMarker", "")
            }
            if let delimiter { x.element("Delimiter", encode(delimiter)) }
            x.element("Prefix", encode(prefix))
            x.element("MaxUploads", maxUploads)
            if encodeURL { x.element("EncodingType", "url") }
            x.element("IsTruncated", page.isTruncated)
            for upload in page.uploads {
                x.element("Upload") { u in
                    u.element("Key", encode(upload.key))
                    u.element("UploadId", upload.uploadID)
                    let uploadOwner = upload.metadata.acl.map { self.owner(ofAccount: $0.owner) } ?? owner
                    writeOwner("Initiator", uploadOwner, into: &u)
                    writeOwner("Owner", uploadOwner, into: &u)
                    u.element("StorageClass", upload.metadata.storageClass ?? "STANDARD")
                    u.element("Initiated", HTTPDate.iso8601(upload.initiated))
                    if let algorithm = upload.checksumAlgorithm {
                        u.element("ChecksumAlgorithm", algorithm)
                        u.element("ChecksumType", upload.checksumType ?? MultipartChecksumMode.composite)
                    }
                }
            }
            for commonPrefix in page.commonPrefixes {
                x.element("CommonPrefixes") { p in p.element("Prefix", encode(commonPrefix)) }
            }
        }
        return .xml(xml)
    }

    func writeOwner(_ element: String, _ owner: Owner, into x: inout XMLWriter) {
        x.element(element) { o in
            o.element("ID", owner.id)
            o.element("DisplayName", owner.displayName)
        }
    }

    /// A max-keys style count: a non-negative integer, capped at `limit`.
    static func boundedCount(_ raw: String?, name: String, limit: Int) throws(S3Error) -> Int {
        try RequestNumber.count(raw, name: name, limit: limit)
    }

    static func encodingType(_ raw: String?) throws(S3Error) -> Bool {
        switch raw {
        case nil: return false
        case "url"?: return true
        case let other?:
            throw S3Error(.invalidArgument, "Invalid Encoding Method specified in Request",
                          details: [("ArgumentName", "encoding-type"), ("ArgumentValue", other)])
        }
    }
}
