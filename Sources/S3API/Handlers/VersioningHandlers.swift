import Foundation
import HTTPTypes
import HummingbirdCore
import ObjectStore
import S3Wire

/// GetBucketVersioning, PutBucketVersioning and ListObjectVersions.
extension S3Handlers {
    func getBucketVersioning(_ bucket: String) async throws -> S3Response {
        let info = try await requireBucket(bucket)
        var xml = XMLWriter()
        xml.element("VersioningConfiguration", namespace: XMLWriter.s3Namespace) { x in
            if let state = info.versioning { x.element("Status", state.rawValue) }
        }
        return .xml(xml)
    }

    func putBucketVersioning(_ bucket: String, _ context: RequestContext, body: RequestBody) async throws -> S3Response {
        _ = try await requireBucket(bucket)
        let document = try await body.collectVerifiedDocument(context, limit: 64 << 10)
        let root = try XMLReader.parse(document)
        guard root.name == "VersioningConfiguration" else { throw S3Error(.malformedXML) }
        let status = root.child("Status")?.text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let mfa = root.child("MfaDelete")?.text.trimmingCharacters(in: .whitespacesAndNewlines), mfa == "Enabled" {
            throw S3Error(.notImplemented, "MFA Delete is not supported by this server.")
        }
        guard let status else {
            // A document with no Status changes nothing, as on S3.
            return .empty(.ok)
        }
        guard let state = VersioningState(rawValue: status) else { throw S3Error(.malformedXML) }
        do {
            try await storage.index.setVersioning(state, bucket: bucket)
        } catch StoreError.invalidBucketState {
            throw S3Error(.invalidBucketState, "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.")
        }
        return .empty(.ok)
    }

    func listObjectVersions(_ bucket: String, _ context: RequestContext) async throws -> S3Response {
        let owner = await bucketOwner(bucket)
        let q = context.query
        let maxKeys = try Self.boundedCount(q["max-keys"], name: "max-keys", limit: 1000)
        let encodeURL = try Self.encodingType(q["encoding-type"])
        let prefix = q["prefix"] ?? ""
        let delimiter = q["delimiter"].flatMap { $0.isEmpty ? nil : $0 }
        let keyMarker = q["key-marker"].flatMap { $0.isEmpty ? nil : $0 }
        let versionIDMarker = q["version-id-marker"].flatMap { $0.isEmpty ? nil : $0 }
        if versionIDMarker != nil && keyMarker == nil {
            throw S3Error(.invalidArgument, "A version-id marker cannot be specified without a key marker.",
                          details: [("ArgumentName", "version-id-marker")])
        }
        _ = try await requireBucket(bucket)
        let page = try await storage.versionLister.list(
            bucket: bucket, prefix: prefix, delimiter: delimiter,
            after: keyMarker.map { VersionMarker(key: $0, versionID: versionIDMarker) }, maxKeys: maxKeys)

        let encode: (String) -> String = encodeURL ? { Percent.encode($0, keepSlash: true) } : { $0 }
        var xml = XMLWriter()
        xml.element("ListVersionsResult", namespace: XMLWriter.s3Namespace) { x in
            x.element("Name", bucket)
            x.element("Prefix", encode(prefix))
            x.element("KeyMarker", encode(keyMarker ?? ""))
            x.element("VersionIdMarker", versionIDMarker ?? "")
            if page.isTruncated, let next = page.next {
                x.element("NextKeyMarker", encode(next.key))
                if let id = next.versionID { x.element("NextVersionIdMarker", id) }
            }
            x.element("MaxKeys", maxKeys)
            if let delimiter { x.element("Delimiter", encode(delimiter)) }
            if encodeURL { x.element("EncodingType", "url") }
            x.element("IsTruncated", page.isTruncated)
            for entry in page.versions {
                let record = entry.record
                x.element(record.isDeleteMarker ? "DeleteMarker" : "Version") { v in
                    v.element("Key", encode(record.key))
                    v.element("VersionId", record.versionName)
                    v.element("IsLatest", entry.isLatest)
                    v.element("LastModified", HTTPDate.iso8601(record.lastModified))
                    if !record.isDeleteMarker {
                        v.element("ETag", "\"\(record.etag)\"")
                        if let checksum = record.checksum {
                            v.element("ChecksumAlgorithm", checksum.algorithm)
                            v.element("ChecksumType", checksum.type)
                        }
                        v.element("Size", record.size)
                        v.element("StorageClass", record.metadata.storageClass ?? "STANDARD")
                    }
                    writeOwner("Owner", record.metadata.acl.map { self.owner(ofAccount: $0.owner) } ?? owner, into: &v)
                }
            }
            for commonPrefix in page.commonPrefixes {
                x.element("CommonPrefixes") { p in p.element("Prefix", encode(commonPrefix)) }
            }
        }
        return .xml(xml)
    }

    /// `?versionId=` of an object request: nil when absent. An empty one is refused, as S3 does.
    static func requestedVersion(_ context: RequestContext) throws(S3Error) -> String? {
        guard let version = context.query["versionId"] else { return nil }
        guard !version.isEmpty else {
            throw S3Error(.invalidArgument, "Version id cannot be the empty string", details: [("ArgumentName", "versionId")])
        }
        return version
    }

    /// The answer for a key whose latest version is a delete marker (404) or a request naming a marker (405).
    static func deleteMarkerError(_ marker: ObjectRecord, named: Bool, key: String) -> S3Error {
        var error = named
            ? S3Error(.methodNotAllowed, details: [("Method", "GET"), ("ResourceType", "DeleteMarker")])
            : S3Error.noSuchKey(key)
        error.headers = [
            ("x-amz-delete-marker", "true"), ("x-amz-version-id", marker.versionName),
            ("Last-Modified", HTTPDate.rfc1123(marker.lastModified)),
        ]
        return error
    }
}

extension HTTPField.Name {
    static let amzVersionID = HTTPField.Name("x-amz-version-id")!
    static let amzDeleteMarker = HTTPField.Name("x-amz-delete-marker")!
}
