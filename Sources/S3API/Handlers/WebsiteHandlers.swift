import Foundation
import HummingbirdCore
import ObjectStore
import S3Wire

/// Put/Get/DeleteBucketWebsite. The website itself is served by the server's website endpoint.
extension S3Handlers {
    func getBucketWebsite(_ bucket: String) async throws -> S3Response {
        guard let website = try await requireBucket(bucket).website else {
            throw S3Error(.noSuchWebsiteConfiguration, details: [("BucketName", bucket)])
        }
        return .xml(WebsiteXML.write(website))
    }

    func putBucketWebsite(_ bucket: String, _ context: RequestContext, body: RequestBody) async throws -> S3Response {
        _ = try await requireBucket(bucket)
        let website = try WebsiteXML.parse(try await body.collectVerifiedDocument(context, limit: WebsiteXML.maxDocumentBytes))
        try await storage.index.setWebsite(website, bucket: bucket)
        authorizer.invalidate(bucket: bucket)
        return .empty(.ok)
    }

    func deleteBucketWebsite(_ bucket: String) async throws -> S3Response {
        _ = try await requireBucket(bucket)
        try await storage.index.setWebsite(nil, bucket: bucket)
        authorizer.invalidate(bucket: bucket)
        return .empty(.noContent)
    }
}
