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
        /// Sealed bytes, emptied and refilled per write: its capacity is allocated once.
        var scratch: [UInt8] = []
        /// The last buffer handed to the store, reused once the store has let it go.
        var spare: ByteBuffer?
    }

    private let inner: any BlobWriter
    private let state: Mutex<State>

    init(_ inner: any BlobWriter, dataKey: [UInt8], envelope: KeyEnvelope) throws {
        self.inner = inner
        self.state = Mutex(State(sealer: try ChunkedSeal.Sealer(key: dataKey), envelope: envelope.bytes))
    }

    func write(_ buffer: ByteBuffer) async throws {
        let sealed = seal(buffer, isLast: false)
        guard sealed.readableBytes > 0 else { return }
        try await inner.write(sealed)
        state.withLock { $0.spare = sealed }
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
            state.scratch.removeAll(keepingCapacity: true)
            if let envelope = state.envelope {
                state.scratch += envelope
                state.envelope = nil
            }
            plaintext.withUnsafeReadableBytes { state.sealer.update($0, appendingTo: &state.scratch) }
            if isLast { state.scratch += state.sealer.finish() }
            var output = state.spare.take() ?? ByteBuffer()
            output.clear(minimumCapacity: state.scratch.count)
            output.writeBytes(state.scratch)
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
        let end = Int64(KeyEnvelope.size) + plan.sealedBytes.upperBound
        /// The sealed bytes of up to `chunksPerRead` chunks from `first`, read on the blob's threads.
        /// A buffer is 1 MiB, past the allocator's mmap threshold: each new one is a fresh mapping whose page faults
        /// and zeroing cost more than decrypting it. So the two read buffers take turns, and the output buffer is
        /// reused whenever the connection is done with it.
        func fetch(_ first: Int64, reusing spare: ByteBuffer?) -> Task<ByteBuffer, any Error>? {
            guard first < plan.chunks.upperBound else { return nil }
            let offset = Int64(KeyEnvelope.size) + plan.sealedBytes.lowerBound + (first - plan.chunks.lowerBound) * stride
            let count = Int(min(offset + chunksPerRead * stride, end) - offset)
            return Task { try await Self.readExactly(blob, offset: offset, count: count, reusing: spare) }
        }
        var chunk = plan.chunks.lowerBound
        var skip = plan.skip
        var remaining = range.count
        var next = fetch(chunk, reusing: nil)
        var spare: ByteBuffer? = nil
        var output = ByteBuffer()
        do {
            while let pending = next, remaining > 0 {
                let sealed = try await pending.value
                // The next read runs while this one is opened and sent.
                next = fetch(chunk + chunksPerRead, reusing: spare.take())
                output.clear(minimumCapacity: Int(chunksPerRead) * header.chunkSize + 1)
                try sealed.withUnsafeReadableBytes { bytes in
                    var start = 0
                    while start < bytes.count {
                        let length = min(Int(stride), bytes.count - start)
                        let sealedChunk = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length)])
                        let isFinal = chunk == plan.finalChunk
                        try output.writeWithUnsafeMutableBytes(minimumWritableBytes: header.chunkSize + 1) { out in
                            do {
                                return try opener.open(sealedChunk, chunk: chunk, isFinal: isFinal, into: out)
                            } catch {
                                throw StoreError.integrityFailure("chunk \(chunk) of a sealed blob failed authentication")
                            }
                        }
                        start += length
                        chunk += 1
                    }
                }
                // Only the range leaves: the first chunk's bytes before it, and the last chunk's after it, are dropped.
                output.moveReaderIndex(forwardBy: min(skip, output.readableBytes))
                skip = 0
                if output.readableBytes > remaining { output.moveWriterIndex(to: output.readerIndex + remaining) }
                remaining -= output.readableBytes
                if output.readableBytes > 0 { try await body(output) }
                spare = sealed
            }
        } catch {
            // A read in flight must end before the caller closes the blob under it.
            _ = try? await next?.value
            throw error
        }
        _ = try? await next?.value
        guard remaining == 0 else { throw StoreError.integrityFailure("a sealed blob ended before its range") }
    }

    /// Checks a sealed blob's structure without its key (an SSE-C blob, whose key is the customer's): the
    /// envelope and header parse and its size fits whole chunks. Returns the plaintext size.
    static func plaintextSize(of blob: any BlobReader) async throws -> Int64 {
        let head = try await readExactly(blob, offset: 0, count: KeyEnvelope.size + ChunkedSeal.headerSize)
        do {
            _ = try KeyEnvelope(parsing: head.readableBytesView)
            let header = try ChunkedSeal.Header(parsing: head.readableBytesView.dropFirst(KeyEnvelope.size))
            guard let size = header.plaintextSize(sealedSize: blob.size - Int64(KeyEnvelope.size)) else {
                throw StoreError.integrityFailure("a sealed blob is shorter or longer than its chunks")
            }
            return size
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.integrityFailure("a sealed blob has no valid envelope or header")
        }
    }

    private static func readExactly(
        _ blob: any BlobReader, offset: Int64, count: Int, reusing spare: ByteBuffer? = nil
    ) async throws -> ByteBuffer {
        var result = try await blob.read(offset: offset, maxLength: count, reusing: spare)
        while result.readableBytes < count {
            var more = try await blob.read(offset: offset + Int64(result.readableBytes), maxLength: count - result.readableBytes)
            guard more.readableBytes > 0 else { throw StoreError.integrityFailure("a sealed blob is cut short") }
            result.writeBuffer(&more)
        }
        return result
    }
}
