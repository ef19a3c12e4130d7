import NIOCore

/// The storage the API layer talks to: an index and a blob store, composed so that the index row is
/// committed last and blobs are freed only once no record refers to them.
public struct Storage: Sendable {
    public let index: any ObjectIndex
    public let blobs: any BlobStore

    public init(index: any ObjectIndex, blobs: any BlobStore) {
        self.index = index
        self.blobs = blobs
    }

    public var lister: Lister { Lister(index: index) }

    /// Stores `record`, whose blobs are already committed, under its key if `condition` holds.
    /// On failure the new blobs are freed; on success the replaced object's blobs are.
    @discardableResult
    public func putObject(_ record: ObjectRecord, condition: WriteCondition = .always) async throws -> ObjectRecord? {
        let replaced: ObjectRecord?
        do {
            replaced = try await index.putObject(record, condition: condition)
        } catch {
            await freeBlobs(of: record)
            throw error
        }
        if let replaced { await freeBlobs(of: replaced) }
        return replaced
    }

    /// Removes a key. Deleting a missing key is not an error (S3 answers 204 either way).
    public func deleteObject(bucket: String, key: String) async throws {
        if let removed = try await index.deleteObject(bucket: bucket, key: key) {
            await freeBlobs(of: removed)
        }
    }

    /// Opens the current object under a key for reading. Throws ``StoreError/noSuchKey`` or ``StoreError/noSuchBucket``.
    ///
    /// A writer may replace the object between the index lookup and opening its blobs; the old blobs are then
    /// gone, so the lookup is retried and the reader sees the new object whole, never a mix.
    public func openObject(bucket: String, key: String) async throws -> (ObjectRecord, ObjectReader) {
        var attempts = 0
        while true {
            guard let record = try await index.object(bucket: bucket, key: key) else { throw StoreError.noSuchKey }
            do {
                return (record, try await ObjectReader.open(record, blobs: blobs))
            } catch StoreError.blobMissing(_) where attempts < 5 {
                attempts += 1
            }
        }
    }

    private func freeBlobs(of record: ObjectRecord) async {
        for segment in record.segments {
            // A blob may be shared (a copy); only an unreferenced one is deleted.
            if (try? await index.isBlobReferenced(segment.blobID)) == false {
                try? await blobs.delete(segment.blobID)
            }
        }
    }
}

/// Reads an object's bytes across its segments, holding every segment open from the start.
public struct ObjectReader: Sendable {
    let segments: [(reader: any BlobReader, size: Int64)]
    public let size: Int64

    static func open(_ record: ObjectRecord, blobs: any BlobStore) async throws -> ObjectReader {
        var opened: [(reader: any BlobReader, size: Int64)] = []
        do {
            for segment in record.segments {
                opened.append((try await blobs.openReader(segment.blobID), segment.size))
            }
        } catch {
            for segment in opened { await segment.reader.close() }
            throw error
        }
        return ObjectReader(segments: opened, size: record.size)
    }

    /// Calls `body` with the bytes of `range` in order, in pieces of at most `chunkSize`.
    public func read(
        range: Range<Int64>, chunkSize: Int,
        _ body: (ByteBuffer) async throws -> Void
    ) async throws {
        var segmentStart: Int64 = 0
        for segment in segments {
            let segmentEnd = segmentStart + segment.size
            defer { segmentStart = segmentEnd }
            let lower = max(range.lowerBound, segmentStart)
            let upper = min(range.upperBound, segmentEnd)
            guard lower < upper else { continue }
            var offset = lower - segmentStart
            let end = upper - segmentStart
            while offset < end {
                let want = Int(min(Int64(chunkSize), end - offset))
                let buffer = try await segment.reader.read(offset: offset, maxLength: want)
                guard buffer.readableBytes > 0 else { throw StoreError.ioFailure("blob shorter than its record") }
                offset += Int64(buffer.readableBytes)
                try await body(buffer)
            }
        }
    }

    public func close() async {
        for segment in segments { await segment.reader.close() }
    }
}
