import ObjectStore
import S3Wire

/// `If-Match` and `If-None-Match` on the operations that write an object (PutObject, CopyObject,
/// CompleteMultipartUpload). AWS documents `If-None-Match: *` and `If-Match: etag`; an ETag in If-None-Match or
/// `*` in If-Match takes its RFC 7232 meaning, so the headers mean what they mean on GET.
extension S3Handlers {
    static func writeCondition(from context: RequestContext) -> WriteCondition {
        WriteCondition(
            ifMatch: context.nonEmptyHeader("If-Match").map(match),
            ifNoneMatch: context.nonEmptyHeader("If-None-Match").map(match))
    }

    private static func match(_ header: String) -> WriteCondition.Match {
        let values = header.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if values.contains("*") { return .any }
        return .etags(values.map { ETag.unquote($0) })
    }

    /// Refuses a write whose condition already fails, before its body is read. The index checks again at commit.
    func precheck(_ condition: WriteCondition, bucket: String, key: String) async throws {
        guard !condition.isUnconditional else { return }
        let current = try await storage.index.object(bucket: bucket, key: key)
        if !condition.holds(for: current) { throw Self.conditionError(condition, current: current, key: key) }
    }

    /// The error for a write the index refused because its condition did not hold at commit.
    func conditionFailure(_ condition: WriteCondition, bucket: String, key: String) async throws -> S3Error {
        Self.conditionError(condition, current: try await storage.index.object(bucket: bucket, key: key), key: key)
    }

    /// If-Match naming an object when there is none is 404 NoSuchKey (AWS's conditional-writes guide); any other
    /// failed condition is 412 naming the header.
    private static func conditionError(_ condition: WriteCondition, current: ObjectRecord?, key: String) -> S3Error {
        guard let ifMatch = condition.ifMatch else {
            return S3Error(.preconditionFailed, details: [("Condition", "If-None-Match")])
        }
        guard let current else { return S3Error.noSuchKey(key) }
        let failed = WriteCondition(ifMatch: ifMatch).holds(for: current) ? "If-None-Match" : "If-Match"
        return S3Error(.preconditionFailed, details: [("Condition", failed)])
    }
}
