import Digest
import NIOCore
import ObjectStore
import Synchronization

/// A blob writer that seals what it is given: the key envelope, then the ``ChunkedSeal`` stream of the
/// plaintext. Only sealed bytes reach the blob store.
final class SealingBlobWriter: BlobWriter {
    private struct State: ~Copyable {
        var sealer: ChunkedSeal.Sealer
        var envelope: [UInt8]?
    }

    private let inner: any BlobWriter
    private let state: Mutex<State>

    init(_ inner: any BlobWriter, dataKey: [UInt8], envelope: KeyEnvelope) throws {
        self.inner = inner
        self.state = Mutex(State(sealer: try ChunkedSeal.Sealer(key: dataKey), envelope: envelope.bytes))
    }

    func write(_ buffer: ByteBuffer) async throws {
        let sealed = seal(buffer, isLast: false)
        if sealed.readableBytes > 0 { try await inner.write(sealed) }
    }

    func commit() async throws -> BlobID {
        try await inner.commit(appending: seal(ByteBuffer(), isLast: true))
    }

    func commit(appending last: ByteBuffer) async throws -> BlobID {
        try await inner.commit(appending: seal(last, isLast: true))
    }

    func abort() async {
        await inner.abort()
    }

    private func seal(_ plaintext: ByteBuffer, isLast: Bool) -> ByteBuffer {
        state.withLock { state in
            var output = ByteBuffer()
            output.reserveCapacity(plaintext.readableBytes + KeyEnvelope.size + ChunkedSeal.headerSize + 2 * ChunkedSeal.tagSize)
            if let envelope = state.envelope {
                output.writeBytes(envelope)
                state.envelope = nil
            }
            plaintext.withUnsafeReadableBytes { output.writeBytes(state.sealer.update($0)) }
            if isLast { output.writeBytes(state.sealer.finish()) }
            return output
        }
    }
}

/// Reads sealed blobs: opens the envelope with the keyring (and the request's customer key, for SSE-C), then
/// reads and opens only the chunks that hold the range asked for.
struct KeyringUnsealer: BlobUnsealer {
    let keyring: Keyring
    let customerKey: [UInt8]?

    func read(
        _ blob: any BlobReader, plaintext range: Range<Int64>, chunkSize: Int, _ body: (ByteBuffer) async throws -> Void
    ) async throws {
        let prefixSize = KeyEnvelope.size + ChunkedSeal.headerSize
        let head = try await Self.readExactly(blob, offset: 0, count: prefixSize)
        let envelope: KeyEnvelope
        let header: ChunkedSeal.Header
        do {
            envelope = try KeyEnvelope(parsing: head.readableBytesView)
            header = try ChunkedSeal.Header(parsing: head.readableBytesView.dropFirst(KeyEnvelope.size))
        } catch {
            throw StoreError.integrityFailure("a sealed blob has no valid envelope or header")
        }
        let dataKey = try await keyring.dataKey(of: envelope, customerKey: customerKey)
        let opener = try ChunkedSeal.Opener(key: dataKey, header: header)
        guard let plaintextSize = header.plaintextSize(sealedSize: blob.size - Int64(KeyEnvelope.size)),
              range.upperBound <= plaintextSize
        else { throw StoreError.integrityFailure("a sealed blob is shorter or longer than its chunks") }
        let plan = header.plan(plaintext: range, plaintextSize: plaintextSize)
        let stride = Int64(header.chunkSize + ChunkedSeal.tagSize)
        let chunksPerRead = Int64(max(1, chunkSize / header.chunkSize))
        var chunk = plan.chunks.lowerBound
        var offset = Int64(KeyEnvelope.size) + plan.sealedBytes.lowerBound
        let end = Int64(KeyEnvelope.size) + plan.sealedBytes.upperBound
        var skip = plan.skip
        var remaining = range.count
        while chunk < plan.chunks.upperBound, remaining > 0 {
            let count = min(chunksPerRead, plan.chunks.upperBound - chunk)
            let readEnd = min(offset + count * stride, end)
            let sealed = try await Self.readExactly(blob, offset: offset, count: Int(readEnd - offset))
            var output = ByteBuffer()
            output.reserveCapacity(Int(min(Int64(remaining), count * Int64(header.chunkSize))))
            try sealed.withUnsafeReadableBytes { bytes in
                var start = 0
                while start < bytes.count {
                    let length = min(Int(stride), bytes.count - start)
                    let plain: [UInt8]
                    do {
                        plain = try opener.open(
                            UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length)]), chunk: chunk,
                            isFinal: chunk == plan.finalChunk)
                    } catch {
                        throw StoreError.integrityFailure("chunk \(chunk) of a sealed blob failed authentication")
                    }
                    let take = min(plain.count - skip, remaining)
                    if take > 0 { output.writeBytes(plain[skip..<(skip + take)]) }
                    remaining -= max(0, take)
                    skip = 0
                    start += length
                    chunk += 1
                }
            }
            offset = readEnd
            if output.readableBytes > 0 { try await body(output) }
        }
        guard remaining == 0 else { throw StoreError.integrityFailure("a sealed blob ended before its range") }
    }

    private static func readExactly(_ blob: any BlobReader, offset: Int64, count: Int) async throws -> ByteBuffer {
        var result = try await blob.read(offset: offset, maxLength: count)
        while result.readableBytes < count {
            var more = try await blob.read(offset: offset + Int64(result.readableBytes), maxLength: count - result.readableBytes)
            guard more.readableBytes > 0 else { throw StoreError.integrityFailure("a sealed blob is cut short") }
            result.writeBuffer(&more)
        }
        return result
    }
}
