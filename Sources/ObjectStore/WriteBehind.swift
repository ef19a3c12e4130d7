import NIOCore

/// Gathers a body's network-sized buffers into larger writes and runs each write behind the caller: while one
/// write is on the I/O threads, the next is hashed and gathered. At most two chunks are held, so memory stays
/// bounded at twice `chunkSize` per upload.
public struct WriteBehind {
    private let writer: any BlobWriter
    private let chunkSize: Int
    private var pending: ByteBuffer
    private var inFlight: Task<Void, any Error>?

    private var firstReservation: Int

    /// - Parameter expectedSize: The body's declared length, if known: a small body reserves only what it needs.
    public init(_ writer: any BlobWriter, chunkSize: Int = 256 << 10, expectedSize: Int64? = nil) {
        self.writer = writer
        self.chunkSize = chunkSize
        self.pending = ByteBufferAllocator().buffer(capacity: 0)
        self.firstReservation = expectedSize.map { Int(min(Int64(chunkSize), max(0, $0))) } ?? chunkSize
    }

    public mutating func write(_ piece: ByteBuffer) async throws {
        if pending.readableBytes == 0 && piece.readableBytes >= chunkSize {
            try await send(piece)
            return
        }
        if pending.capacity == 0 {
            pending.reserveCapacity(max(firstReservation, piece.readableBytes))
            firstReservation = chunkSize
        }
        var piece = piece
        pending.writeBuffer(&piece)
        if pending.readableBytes >= chunkSize {
            let chunk = pending
            pending = ByteBufferAllocator().buffer(capacity: 0)
            try await send(chunk)
        }
    }

    /// Waits for every write in flight and returns what is still gathered, unwritten, for
    /// ``BlobWriter/commit(appending:)``: a body smaller than a chunk is never written before its commit.
    public mutating func finishKeepingLast() async throws -> ByteBuffer {
        try await waitForWrite()
        let last = pending
        pending = ByteBufferAllocator().buffer(capacity: 0)
        return last
    }

    /// Waits for a write in flight, ignoring its outcome: call before aborting the blob.
    public mutating func cancel() async {
        try? await waitForWrite()
    }

    private mutating func send(_ chunk: ByteBuffer) async throws {
        try await waitForWrite()
        let writer = self.writer
        inFlight = Task { try await writer.write(chunk) }
    }

    private mutating func waitForWrite() async throws {
        guard let task = inFlight else { return }
        inFlight = nil
        try await task.value
    }
}
