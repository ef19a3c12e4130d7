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

/// A page rolled up by ``rollUp(prefix:delimiter:after:afterKey:maxEntries:batchSize:key:position:fetch:)``.
struct RolledUpPage<Entry, Position> {
    var entries: [Entry] = []
    var commonPrefixes: [String] = []
    var isTruncated = false
    /// The last entry's key and position, or the last common prefix (no position): where the next page starts.
    var last: (key: String, position: Position?)?
}

/// The listing loop every S3 listing shares (keys, multipart uploads, versions): entries in key order from
/// `fetch`, with keys that share a common prefix up to `delimiter` rolled up into one entry and skipped by a
/// single seek past the prefix, so a page costs what it returns whatever the size of the bucket.
///
/// - Parameters:
///   - after: Where the request resumes (marker, continuation token); `afterKey` is its key, which also hides
///     common prefixes at or before it (they were on an earlier page).
///   - maxEntries: Entries plus common prefixes to return, at most.
///   - position: Where an entry is, to resume after it.
///   - fetch: Entries with keys in a range, after a position, at most a limit: an index seek. Called with a
///     limit of 0 when `maxEntries` is 0, so the index can report a missing bucket.
func rollUp<Entry, Position>(
    prefix: String, delimiter: String?, after: Position?, afterKey: String?, maxEntries: Int, batchSize: Int,
    key: (Entry) -> String, position: (Entry) -> Position,
    fetch: (KeyRange, Position?, Int) async throws -> [Entry]
) async throws -> RolledUpPage<Entry, Position> {
    let prefixBytes = Array(prefix.utf8)
    let delimiterBytes = delimiter.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
    var range = KeyRange(lower: prefixBytes, lowerInclusive: true, upper: prefixSuccessor(prefixBytes))
    var page = RolledUpPage<Entry, Position>()
    guard maxEntries > 0 else {
        // S3 answers a limit of 0 with an empty, untruncated page.
        _ = try await fetch(range, nil, 0)
        return page
    }
    let afterKeyBytes = afterKey.map { Array($0.utf8) }
    var resume = after
    var emitted = 0
    seeking: while true {
        let batch = try await fetch(range, resume, batchSize)
        for entry in batch {
            let entryKey = Array(key(entry).utf8)
            if let delimiterBytes, let hit = entryKey.firstRange(of: delimiterBytes, from: prefixBytes.count) {
                let commonPrefix = Array(entryKey[..<hit.upperBound])
                let alreadyListed = afterKeyBytes.map { !$0.lexicographicallyPrecedes(commonPrefix) } ?? false
                if !alreadyListed {
                    if emitted == maxEntries {
                        page.isTruncated = true
                        break seeking
                    }
                    let name = String(decoding: commonPrefix, as: UTF8.self)
                    page.commonPrefixes.append(name)
                    page.last = (name, nil)
                    emitted += 1
                }
                guard let next = prefixSuccessor(commonPrefix) else { break seeking }
                range.lower = next
                range.lowerInclusive = true
                resume = nil
                continue seeking
            }
            if emitted == maxEntries {
                page.isTruncated = true
                break seeking
            }
            page.entries.append(entry)
            resume = position(entry)
            page.last = (key(entry), resume)
            emitted += 1
        }
        if batch.count < batchSize { break }
    }
    return page
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
        let page = try await rollUp(
            prefix: query.prefix, delimiter: query.delimiter, after: query.after, afterKey: query.after,
            maxEntries: query.maxKeys, batchSize: batchSize, key: \.key, position: \.key
        ) { range, after, limit in
            var range = range
            // Resume after a key only where that is beyond the range's own start.
            if let after = after.map({ Array($0.utf8) }), !after.lexicographicallyPrecedes(range.lower) {
                range.lower = after
                range.lowerInclusive = false
            }
            return try await index.scan(bucket: bucket, range: range, limit: limit)
        }
        return ListPage(objects: page.entries, commonPrefixes: page.commonPrefixes, isTruncated: page.isTruncated, lastEntry: page.last?.key)
    }
}

extension Optional {
    func orThrow(_ error: @autoclosure () -> any Error) throws -> Wrapped {
        guard let value = self else { throw error() }
        return value
    }
}
