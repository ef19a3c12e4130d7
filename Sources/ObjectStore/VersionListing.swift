/// One page of ListObjectVersions.
public struct VersionPage: Sendable, Equatable {
    public var versions: [VersionEntry]
    public var commonPrefixes: [String]
    public var isTruncated: Bool
    /// Where the next page starts: the last version's key and ID, or the last common prefix (no ID).
    public var next: VersionMarker?
}

/// Lists versions the way ``Lister`` lists keys: index seeks, one per common prefix.
public struct VersionLister: Sendable {
    let index: any VersionIndex
    let batchSize: Int

    public init(index: any VersionIndex, batchSize: Int = 256) {
        self.index = index
        self.batchSize = batchSize
    }

    /// `after` is the request's key-marker and version-id-marker; `maxKeys` counts versions, delete markers
    /// and common prefixes.
    public func list(
        bucket: String, prefix: String, delimiter: String?, after: VersionMarker?, maxKeys: Int
    ) async throws -> VersionPage {
        let page = try await rollUp(
            prefix: prefix, delimiter: delimiter, after: after, afterKey: after?.key, maxEntries: maxKeys,
            batchSize: batchSize, key: \.record.key,
            position: { VersionMarker(key: $0.record.key, versionID: $0.record.versionName) }
        ) { range, after, limit in
            try await index.versions(bucket: bucket, range: range, after: after, limit: limit)
        }
        return VersionPage(
            versions: page.entries, commonPrefixes: page.commonPrefixes, isTruncated: page.isTruncated,
            next: page.last.map { $0.position ?? VersionMarker(key: $0.key, versionID: nil) })
    }
}
