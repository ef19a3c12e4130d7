import Foundation
import HTTPTypes
import HummingbirdCore
import ObjectStore
import S3Wire

/// Put/Get/DeleteBucketCors. Preflights and the headers of actual responses are the server's (``CORSResponder``).
extension S3Handlers {
    func getBucketCors(_ bucket: String) async throws -> S3Response {
        guard let rules = try await requireBucket(bucket).cors else {
            throw S3Error(.noSuchCORSConfiguration, details: [("BucketName", bucket)])
        }
        return .xml(CORSXML.write(rules))
    }

    func putBucketCors(_ bucket: String, _ context: RequestContext, body: RequestBody) async throws -> S3Response {
        try Self.requireIntegrityCheck(context)
        _ = try await requireBucket(bucket)
        let rules = try CORSXML.parse(try await body.collectVerifiedDocument(context, limit: CORSXML.maxDocumentBytes))
        try await storage.index.setCORS(rules, bucket: bucket)
        authorizer.invalidate(bucket: bucket)
        return .empty(.ok)
    }

    func deleteBucketCors(_ bucket: String) async throws -> S3Response {
        try await storage.index.setCORS(nil, bucket: bucket)
        authorizer.invalidate(bucket: bucket)
        return .empty(.noContent)
    }
}
