/// A ListObjects request, in the terms both V1 and V2 share.
public struct ListQuery: Sendable, Equatable {
    public var prefix: String
    public var delimiter: String?
    /// Only entries after this key (V1 `marker`, V2 `start-after` or continuation token), exclusive.
    public var after: String?
    /// Keys plus common prefixes to return, at most.
    public var maxKeys: Int

    public init(prefix: String = "", delimiter: String? = nil, after: String? = nil, maxKeys: Int = 1000) {
        self.prefix = prefix
        self.delimiter = delimiter
        self.after = after
        self.maxKeys = maxKeys
    }
}

/// One page of a listing.
public struct ListPage: Sendable, Equatable {
    public var objects: [ObjectRecord]
    public var commonPrefixes: [String]
    public var isTruncated: Bool
    /// The last key or common prefix on the page: where the next page starts after.
    public var lastEntry: String?
}

/// The smallest byte string greater than every string that starts with `prefix`, or nil if there is none.
func prefixSuccessor(_ prefix: [UInt8]) -> [UInt8]? {
    var bytes = prefix
    while let last = bytes.last {
        if last < 0xFF {
            bytes[bytes.count - 1] = last + 1
            return bytes
        }
        bytes.removeLast()
    }
    return nil
}

extension Array where Element == UInt8 {
    /// Where `needle` first occurs at or after `start`.
    func firstRange(of needle: [UInt8], from start: Int) -> Range<Int>? {
        guard !needle.isEmpty, count - start >= needle.count else { return nil }
        var index = start
        while index + needle.count <= count {
            if self[index] == needle[0], self[index..<(index + needle.count)].elementsEqual(needle) {
                return index..<(index + needle.count)
            }
            index += 1
        }
        return nil
    }
}

/// Lists keys through index seeks: a run of keys that roll up into one common prefix costs one seek, not a scan,
/// so a page costs what it returns whatever the size of the bucket.
public struct Lister: Sendable {
    let index: any ObjectIndex
    /// Rows fetched per seek; small enough to waste little when a common prefix ends the batch early.
    let batchSize: Int

    public init(index: any ObjectIndex, batchSize: Int = 256) {
        self.index = index
        self.batchSize = batchSize
    }

    public func list(bucket: String, query: ListQuery) async throws -> ListPage {
        let prefix = Array(query.prefix.utf8)
        let delimiter = query.delimiter.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        let after = query.after.map { Array($0.utf8) }
        var range = KeyRange(lower: prefix, lowerInclusive: true, upper: prefixSuccessor(prefix))
        if let after, !after.lexicographicallyPrecedes(prefix) {
            range.lower = after
            range.lowerInclusive = false
        }
        var page = ListPage(objects: [], commonPrefixes: [], isTruncated: false, lastEntry: nil)
        guard query.maxKeys > 0 else {
            // S3 answers max-keys=0 with an empty, untruncated page.
            _ = try await index.bucket(named: bucket).orThrow(StoreError.noSuchBucket)
            return page
        }
        var emitted = 0

        seeking: while true {
            let batch = try await index.scan(bucket: bucket, range: range, limit: batchSize)
            for record in batch {
                let key = Array(record.key.utf8)
                if let delimiter, let hit = key.firstRange(of: delimiter, from: prefix.count) {
                    let commonPrefix = Array(key[..<hit.upperBound])
                    // A common prefix at or before the marker was on an earlier page.
                    let alreadyListed = after.map { !$0.lexicographicallyPrecedes(commonPrefix) } ?? false
                    if !alreadyListed {
                        if emitted == query.maxKeys {
                            page.isTruncated = true
                            break seeking
                        }
                        let name = String(decoding: commonPrefix, as: UTF8.self)
                        page.commonPrefixes.append(name)
                        page.lastEntry = name
                        emitted += 1
                    }
                    guard let next = prefixSuccessor(commonPrefix) else { break seeking }
                    range.lower = next
                    range.lowerInclusive = true
                    continue seeking
                }
                if emitted == query.maxKeys {
                    page.isTruncated = true
                    break seeking
                }
                page.objects.append(record)
                page.lastEntry = record.key
                emitted += 1
                range.lower = key
                range.lowerInclusive = false
            }
            if batch.count < batchSize { break }
        }
        return page
    }
}

extension Optional {
    func orThrow(_ error: @autoclosure () -> any Error) throws -> Wrapped {
        guard let value = self else { throw error() }
        return value
    }
}
