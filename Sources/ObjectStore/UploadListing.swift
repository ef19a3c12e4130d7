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
        let prefixBytes = Array(prefix.utf8)
        let delimiterBytes = delimiter.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        var range = KeyRange(lower: prefixBytes, lowerInclusive: true, upper: prefixSuccessor(prefixBytes))
        var marker = after
        var page = UploadPage(uploads: [], commonPrefixes: [], isTruncated: false, next: nil)
        guard maxUploads > 0 else {
            _ = try await index.uploads(bucket: bucket, range: range, after: nil, limit: 0)
            return page
        }
        let markerKey = after.map { Array($0.key.utf8) }
        var emitted = 0
        seeking: while true {
            let batch = try await index.uploads(bucket: bucket, range: range, after: marker, limit: batchSize)
            for upload in batch {
                let key = Array(upload.key.utf8)
                if let delimiterBytes, let hit = key.firstRange(of: delimiterBytes, from: prefixBytes.count) {
                    let commonPrefix = Array(key[..<hit.upperBound])
                    let alreadyListed = markerKey.map { !$0.lexicographicallyPrecedes(commonPrefix) } ?? false
                    if !alreadyListed {
                        if emitted == maxUploads {
                            page.isTruncated = true
                            break seeking
                        }
                        let name = String(decoding: commonPrefix, as: UTF8.self)
                        page.commonPrefixes.append(name)
                        page.next = UploadMarker(key: name, uploadID: nil)
                        emitted += 1
                    }
                    guard let next = prefixSuccessor(commonPrefix) else { break seeking }
                    range.lower = next
                    range.lowerInclusive = true
                    marker = nil
                    continue seeking
                }
                if emitted == maxUploads {
                    page.isTruncated = true
                    break seeking
                }
                page.uploads.append(upload)
                page.next = UploadMarker(key: upload.key, uploadID: upload.uploadID)
                emitted += 1
                marker = page.next
            }
            if batch.count < batchSize { break }
        }
        return page
    }
}
