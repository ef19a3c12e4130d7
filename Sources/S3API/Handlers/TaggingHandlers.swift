import Foundation
import HTTPTypes
import HummingbirdCore
import ObjectStore
import S3Wire

/// Object and bucket tagging: Get, Put and Delete of each.
extension S3Handlers {
    func getObjectTagging(_ bucket: String, _ key: String, _ context: RequestContext) async throws -> S3Response {
        let record = try await taggedRecord(bucket, key, context)
        var xml = XMLWriter()
        // A tag set has no order on AWS (it answers in an order of its own); ordering by key makes ours stable
        // however the tags were given, in the header's query form or a document.
        let tags = (record.metadata.tags ?? []).sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
        TagSet.write(tags, into: &xml)
        var response = S3Response.xml(xml)
        if let version = record.versionID { response.headers[.amzVersionID] = version }
        return response
    }

    func putObjectTagging(_ bucket: String, _ key: String, _ context: RequestContext, body: RequestBody) async throws -> S3Response {
        let document = try await body.collectVerifiedDocument(context, limit: 64 << 10)
        let tags = try TagSet.parse(document: document, limit: TagSet.maxObjectTags)
        return try await replaceTags(tags, bucket, key, context, status: .ok)
    }

    func deleteObjectTagging(_ bucket: String, _ key: String, _ context: RequestContext) async throws -> S3Response {
        try await replaceTags([], bucket, key, context, status: .noContent)
    }

    func getBucketTagging(_ bucket: String) async throws -> S3Response {
        guard let tags = try await storage.index.bucketTags(bucket: bucket), !tags.isEmpty else {
            throw S3Error(.noSuchTagSet, details: [("BucketName", bucket)])
        }
        var xml = XMLWriter()
        TagSet.write(tags, into: &xml)
        return .xml(xml)
    }

    func putBucketTagging(_ bucket: String, _ context: RequestContext, body: RequestBody) async throws -> S3Response {
        _ = try await requireBucket(bucket)
        let document = try await body.collectVerifiedDocument(context, limit: 64 << 10)
        let tags = try TagSet.parse(document: document, limit: TagSet.maxBucketTags)
        try await storage.index.setBucketTags(tags, bucket: bucket)
        return .empty(.noContent)
    }

    func deleteBucketTagging(_ bucket: String) async throws -> S3Response {
        try await storage.index.setBucketTags(nil, bucket: bucket)
        return .empty(.noContent)
    }

    private func replaceTags(
        _ tags: [ObjectTag], _ bucket: String, _ key: String, _ context: RequestContext, status: HTTPResponse.Status
    ) async throws -> S3Response {
        let version = try Self.requestedVersion(context)
        guard let record = try await storage.index.setTags(tags, bucket: bucket, key: key, versionID: version) else {
            throw try await missingObjectError(bucket, key, version: version)
        }
        if record.isDeleteMarker { throw Self.deleteMarkerError(record, named: version != nil, key: key) }
        var headers = HTTPFields()
        if let id = record.versionID { headers[.amzVersionID] = id }
        return .empty(status, headers: headers)
    }

    /// The record whose tags a GetObjectTagging reads: the current object, or the named version.
    private func taggedRecord(_ bucket: String, _ key: String, _ context: RequestContext) async throws -> ObjectRecord {
        let version = try Self.requestedVersion(context)
        let record = try await requireVersion(bucket, key, version: version)
        if record.isDeleteMarker { throw Self.deleteMarkerError(record, named: version != nil, key: key) }
        return record
    }
}

extension HTTPField.Name {
    static let amzTaggingCount = HTTPField.Name("x-amz-tagging-count")!
}
