/// One page of ListMultipartUploads.
public struct UploadPage: Sendable, Equatable {
    public var uploads: [MultipartUpload]
    public var commonPrefixes: [String]
    public var isTruncated: Bool
    /// Where the next page starts: the last upload's key and ID, or the last common prefix (no ID).
    public var next: UploadMarker?
}

/// Lists multipart uploads the way ``Lister`` lists keys: index seeks, one per common prefix.
public struct UploadLister: Sendable {
    let index: any MultipartIndex
    let batchSize: Int

    public init(index: any MultipartIndex, batchSize: Int = 256) {
        self.index = index
        self.batchSize = batchSize
    }

    /// `after` is the request's key-marker and upload-id-marker.
    public func list(
        bucket: String, prefix: String, delimiter: String?, after: UploadMarker?, maxUploads: Int
    ) async throws -> UploadPage {
        let page = try await rollUp(
            prefix: prefix, delimiter: delimiter, after: after, afterKey: after?.key, maxEntries: maxUploads,
            batchSize: batchSize, key: \.key, position: { UploadMarker(key: $0.key, uploadID: $0.uploadID) }
        ) { range, after, limit in
            try await index.uploads(bucket: bucket, range: range, after: after, limit: limit)
        }
        return UploadPage(
            uploads: page.entries, commonPrefixes: page.commonPrefixes, isTruncated: page.isTruncated,
            next: page.last.map { $0.position ?? UploadMarker(key: $0.key, uploadID: nil) })
    }
}
