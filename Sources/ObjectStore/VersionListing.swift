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
        let prefixBytes = Array(prefix.utf8)
        let delimiterBytes = delimiter.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        var range = KeyRange(lower: prefixBytes, lowerInclusive: true, upper: prefixSuccessor(prefixBytes))
        var marker = after
        var page = VersionPage(versions: [], commonPrefixes: [], isTruncated: false, next: nil)
        guard maxKeys > 0 else {
            _ = try await index.versions(bucket: bucket, range: range, after: nil, limit: 0)
            return page
        }
        let markerKey = after.map { Array($0.key.utf8) }
        var emitted = 0
        seeking: while true {
            let batch = try await index.versions(bucket: bucket, range: range, after: marker, limit: batchSize)
            for entry in batch {
                let key = Array(entry.record.key.utf8)
                if let delimiterBytes, let hit = key.firstRange(of: delimiterBytes, from: prefixBytes.count) {
                    let commonPrefix = Array(key[..<hit.upperBound])
                    let alreadyListed = markerKey.map { !$0.lexicographicallyPrecedes(commonPrefix) } ?? false
                    if !alreadyListed {
                        if emitted == maxKeys {
                            page.isTruncated = true
                            break seeking
                        }
                        let name = String(decoding: commonPrefix, as: UTF8.self)
                        page.commonPrefixes.append(name)
                        page.next = VersionMarker(key: name, versionID: nil)
                        emitted += 1
                    }
                    guard let next = prefixSuccessor(commonPrefix) else { break seeking }
                    range.lower = next
                    range.lowerInclusive = true
                    marker = nil
                    continue seeking
                }
                if emitted == maxKeys {
                    page.isTruncated = true
                    break seeking
                }
                page.versions.append(entry)
                page.next = VersionMarker(key: entry.record.key, versionID: entry.record.versionName)
                emitted += 1
                marker = page.next
            }
            if batch.count < batchSize { break }
        }
        return page
    }
}
