import Digest
import Foundation
import HummingbirdCore
import ObjectStore
import S3Wire

/// DeleteObjects: up to 1,000 keys in one request and one index transaction.
extension S3Handlers {
    /// Each key of DeleteObjects is authorized as its own DeleteObject (DeleteObjectVersion), as on AWS.
    /// A refusal is that key's AccessDenied; any other failure (the index unreadable) fails the request.
    private func mayDelete(_ bucket: String, _ key: String, version: String?, _ context: RequestContext) async throws -> Bool {
        let action = IAMAction(
            version == nil ? "s3:DeleteObject" : "s3:DeleteObjectVersion", resource: "arn:aws:s3:::\(bucket)/\(key)", bucket: bucket,
            key: key, versionID: version)
        do {
            try await context.require(action)
            return true
        } catch let error as S3Error where error.code == .accessDenied {
            return false
        }
    }

    func deleteObjects(_ bucket: String, _ context: RequestContext, body: RequestBody) async throws -> S3Response {
        try Self.requireIntegrityCheck(context)
        _ = try await requireBucket(bucket)
        let document = try await body.collectVerifiedDocument(context, limit: 2 << 20)
        let request = try DeleteObjectsXML.parse(document)
        let quiet = request.quiet

        var requests: [DeleteRequest] = []
        var errors: [(key: String, version: String?, code: S3ErrorCode, message: String)] = []
        for (key, version) in request.objects {
            if key.utf8.count > Self.maxKeyBytes {
                errors.append((key, version, .keyTooLongError, S3ErrorCode.keyTooLongError.defaultMessage))
            } else if let version, version.isEmpty {
                errors.append((key, version, .invalidArgument, "Invalid version id specified"))
            } else if try await mayDelete(bucket, key, version: version, context) {
                requests.append(DeleteRequest(key: key, versionID: version))
            } else {
                errors.append((key, version, .accessDenied, S3ErrorCode.accessDenied.defaultMessage))
            }
        }
        // Pitfall: clients send the bypass header to buckets without object lock too; there it changes nothing.
        let outcomes = try await storage.deleteObjects(
            bucket: bucket, requests: requests, bypassGovernance: ObjectLockXML.bypassesGovernance(context.headers))
        var deleted: [(request: DeleteRequest, change: IndexChange)] = []
        for (request, outcome) in zip(requests, outcomes) {
            switch outcome {
            case .success(let change): deleted.append((request, change))
            case .failure(let error):
                let s3Error = S3Error.from(error, bucket: bucket, key: request.key)
                errors.append((request.key, request.versionID, s3Error.code, s3Error.message))
            }
        }

        var xml = XMLWriter()
        xml.element("DeleteResult", namespace: XMLWriter.s3Namespace) { x in
            if !quiet {
                for (request, change) in deleted {
                    x.element("Deleted") { d in
                        d.element("Key", request.key)
                        if let version = request.versionID {
                            d.element("VersionId", version)
                            if change.replaced?.isDeleteMarker == true {
                                d.element("DeleteMarker", true)
                                d.element("DeleteMarkerVersionId", version)
                            }
                        } else if let marker = change.stored {
                            d.element("DeleteMarker", true)
                            d.element("DeleteMarkerVersionId", marker.versionName)
                        }
                    }
                }
            }
            for error in errors {
                x.element("Error") { e in
                    e.element("Key", error.key)
                    if let version = error.version { e.element("VersionId", version) }
                    e.element("Code", error.code.rawValue)
                    e.element("Message", error.message)
                }
            }
        }
        return .xml(xml)
    }
}
