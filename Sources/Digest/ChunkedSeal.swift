import CMartletSystem

/// Encryption at rest: a blob's bytes as AES-256-GCM in chunks that are each authenticated on their own, so a
/// ranged read decrypts only the chunks it returns.
///
/// Layout: a 24-byte header, then chunk after chunk, each the ciphertext of up to `chunkSize` plaintext bytes
/// followed by its 16-byte tag.
/// - Header: `MSE\u{1}` (magic and format version), the plaintext chunk size (UInt32, big-endian), and a 16-byte
///   random salt chosen per blob.
/// - Chunk `i`'s nonce is the salt's first 12 bytes with its last 8 XORed with `i` (big-endian): unique per chunk.
/// - Chunk `i`'s authenticated data is the header, `i` (UInt64, big-endian) and a byte that is 1 for the last
///   chunk and 0 otherwise. A chunk moved elsewhere, a chunk of another blob, a blob cut at a chunk boundary, or a
///   header altered in any way fails authentication.
/// - There is always at least one chunk: an empty blob is one empty final chunk (its tag), so that cutting a blob
///   down to its header is detected too.
public enum ChunkedSeal {
    public static let headerSize = 24
    public static let tagSize = 16
    public static let defaultChunkSize = 64 * 1024
    static let magic: [UInt8] = [0x4D, 0x53, 0x45, 0x01]
    static let saltSize = 16

    public enum Failure: Error, Equatable {
        /// Not a header of this format (or of a version this build cannot read).
        case unknownFormat
        /// A chunk failed authentication: the bytes on disk were altered, cut, reordered or mixed with another blob's.
        case authenticationFailed(chunk: Int64)
    }

    /// A blob's header: its plaintext chunk size and salt.
    public struct Header: Equatable, Sendable {
        public let chunkSize: Int
        public let salt: [UInt8]

        /// A new header with a fresh random salt.
        public init(chunkSize: Int = ChunkedSeal.defaultChunkSize) {
            precondition(chunkSize > 0 && chunkSize <= Int(UInt32.max))
            var generator = SystemRandomNumberGenerator()
            self.init(chunkSize: chunkSize, salt: (0..<ChunkedSeal.saltSize).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }

        init(chunkSize: Int, salt: [UInt8]) {
            self.chunkSize = chunkSize
            self.salt = salt
        }

        public var bytes: [UInt8] {
            let size = UInt32(chunkSize)
            return ChunkedSeal.magic + [UInt8(size >> 24), UInt8(truncatingIfNeeded: size >> 16), UInt8(truncatingIfNeeded: size >> 8), UInt8(truncatingIfNeeded: size)] + salt
        }

        /// Reads a header from the first ``ChunkedSeal/headerSize`` bytes of a blob.
        public init(parsing bytes: some Collection<UInt8>) throws(Failure) {
            let bytes = Array(bytes.prefix(ChunkedSeal.headerSize))
            guard bytes.count == ChunkedSeal.headerSize, Array(bytes[0..<4]) == ChunkedSeal.magic else { throw .unknownFormat }
            let size = bytes[4..<8].reduce(0) { $0 << 8 | Int($1) }
            guard size > 0 else { throw .unknownFormat }
            self.init(chunkSize: size, salt: Array(bytes[8..<24]))
        }

        /// How many chunks hold `plaintextSize` bytes (at least one).
        public func chunkCount(plaintextSize: Int64) -> Int64 {
            max(1, (plaintextSize + Int64(chunkSize) - 1) / Int64(chunkSize))
        }

        /// The size of the whole sealed blob.
        public func sealedSize(plaintextSize: Int64) -> Int64 {
            Int64(ChunkedSeal.headerSize) + plaintextSize + chunkCount(plaintextSize: plaintextSize) * Int64(ChunkedSeal.tagSize)
        }

        /// The plaintext size of a sealed blob of `sealedSize` bytes, or nil if no plaintext seals to that size
        /// (a blob cut or padded).
        public func plaintextSize(sealedSize: Int64) -> Int64? {
            let body = sealedSize - Int64(ChunkedSeal.headerSize)
            let stride = Int64(chunkSize) + Int64(ChunkedSeal.tagSize)
            guard body >= Int64(ChunkedSeal.tagSize) else { return nil }
            let chunks = (body + stride - 1) / stride
            let plaintext = body - chunks * Int64(ChunkedSeal.tagSize)
            guard plaintext >= 0, chunkCount(plaintextSize: plaintext) == chunks else { return nil }
            return plaintext
        }

        /// What to read from the sealed blob to return `range` of the plaintext: the chunks that hold it, where
        /// they start and end in the blob, and how many plaintext bytes of the first chunk to skip.
        public func plan(plaintext range: Range<Int64>, plaintextSize: Int64) -> ReadPlan {
            let chunk = Int64(chunkSize)
            let stride = chunk + Int64(ChunkedSeal.tagSize)
            let first = range.lowerBound / chunk
            let last = range.isEmpty ? first : (range.upperBound - 1) / chunk
            let lastPlainEnd = min((last + 1) * chunk, plaintextSize)
            let sealedEnd = Int64(ChunkedSeal.headerSize) + last * stride + (lastPlainEnd - last * chunk) + Int64(ChunkedSeal.tagSize)
            return ReadPlan(
                chunks: first..<(last + 1),
                sealedBytes: (Int64(ChunkedSeal.headerSize) + first * stride)..<sealedEnd,
                skip: Int(range.lowerBound - first * chunk),
                finalChunk: chunkCount(plaintextSize: plaintextSize) - 1)
        }

        func nonce(chunk index: Int64) -> [UInt8] {
            var nonce = Array(salt[0..<12])
            let counter = UInt64(index)
            for byte in 0..<8 { nonce[4 + byte] ^= UInt8(truncatingIfNeeded: counter >> (56 - 8 * UInt64(byte))) }
            return nonce
        }

        func authenticatedData(chunk index: Int64, isFinal: Bool) -> [UInt8] {
            let counter = UInt64(index)
            return bytes + (0..<8).map { UInt8(truncatingIfNeeded: counter >> (56 - 8 * UInt64($0))) } + [isFinal ? 1 : 0]
        }
    }

    /// The part of a sealed blob a ranged read needs.
    public struct ReadPlan: Equatable, Sendable {
        /// The chunks that hold the range.
        public let chunks: Range<Int64>
        /// Where those chunks are in the sealed blob.
        public let sealedBytes: Range<Int64>
        /// Plaintext bytes of the first chunk before the range.
        public let skip: Int
        /// The index of the blob's last chunk (sealed as final).
        public let finalChunk: Int64
    }

    /// Seals a stream of plaintext chunk by chunk. A full chunk is sealed once the next byte arrives (or at
    /// ``finish()``, as the final chunk), so at most one chunk of plaintext is held.
    public struct Sealer: ~Copyable {
        public let header: Header
        private let cipher: Cipher
        private var pending: [UInt8] = []
        private var index: Int64 = 0

        public init(key: [UInt8], header: Header = Header()) throws(AESGCM.Failure) {
            self.header = header
            self.cipher = try Cipher(key: key, encrypting: true)
            pending.reserveCapacity(header.chunkSize)
        }

        /// The sealed bytes `plaintext` completes, if any; the header comes before the first chunk. Full chunks
        /// with more bytes after them are sealed straight from `plaintext`; only the tail is copied and held.
        public mutating func update(_ plaintext: UnsafeRawBufferPointer) -> [UInt8] {
            var output: [UInt8] = []
            update(plaintext, appendingTo: &output)
            return output
        }

        /// As ``update(_:)``, appending to `output`: a caller that empties and refills one array (keeping its
        /// capacity) seals a stream without allocating per call.
        public mutating func update(_ plaintext: UnsafeRawBufferPointer, appendingTo output: inout [UInt8]) {
            guard !plaintext.isEmpty else { return }
            output.reserveCapacity(output.count + ChunkedSeal.headerSize + plaintext.count + (plaintext.count / header.chunkSize + 2) * ChunkedSeal.tagSize)
            if index == 0 && pending.isEmpty { output += header.bytes }
            var rest = plaintext[...]
            if !pending.isEmpty || rest.count <= header.chunkSize {
                let take = min(header.chunkSize - pending.count, rest.count)
                pending += rest.prefix(take)
                rest = rest.dropFirst(take)
                guard !rest.isEmpty else { return }
                // The held chunk is full and more follows: it is not the last.
                pending.withUnsafeBytes { sealChunk($0, isFinal: false, into: &output) }
                pending.removeAll(keepingCapacity: true)
            }
            while rest.count > header.chunkSize {
                sealChunk(UnsafeRawBufferPointer(rebasing: rest.prefix(header.chunkSize)), isFinal: false, into: &output)
                rest = rest.dropFirst(header.chunkSize)
            }
            pending += rest
        }

        /// The final chunk (and the header, if nothing was sealed yet). Call once, last.
        public mutating func finish() -> [UInt8] {
            var output: [UInt8] = index == 0 && pending.isEmpty ? header.bytes : []
            pending.withUnsafeBytes { sealChunk($0, isFinal: true, into: &output) }
            return output
        }

        private mutating func sealChunk(_ plaintext: UnsafeRawBufferPointer, isFinal: Bool, into output: inout [UInt8]) {
            cipher.seal(plaintext, nonce: header.nonce(chunk: index), aad: header.authenticatedData(chunk: index, isFinal: isFinal), appendingTo: &output)
            index += 1
        }
    }

    /// Opens chunks of one sealed blob.
    public final class Opener {
        public let header: Header
        private let cipher: Cipher

        public init(key: [UInt8], header: Header) throws(AESGCM.Failure) {
            self.header = header
            self.cipher = try Cipher(key: key, encrypting: false)
        }

        /// The plaintext of chunk `index` from its sealed bytes (ciphertext and tag).
        public func open(_ sealed: UnsafeRawBufferPointer, chunk index: Int64, isFinal: Bool) throws(Failure) -> [UInt8] {
            guard sealed.count >= ChunkedSeal.tagSize, sealed.count - ChunkedSeal.tagSize <= header.chunkSize,
                  let plaintext = cipher.open(sealed, nonce: header.nonce(chunk: index), aad: header.authenticatedData(chunk: index, isFinal: isFinal))
            else { throw .authenticationFailed(chunk: index) }
            return plaintext
        }

        /// Opens chunk `index` into `output`, which must hold the chunk's plaintext and one byte more; returns the
        /// plaintext's length. Spares the copy ``open(_:chunk:isFinal:)`` makes.
        public func open(
            _ sealed: UnsafeRawBufferPointer, chunk index: Int64, isFinal: Bool, into output: UnsafeMutableRawBufferPointer
        ) throws(Failure) -> Int {
            let length = sealed.count - ChunkedSeal.tagSize
            guard sealed.count >= ChunkedSeal.tagSize, length <= header.chunkSize, output.count > length,
                  cipher.open(sealed, nonce: header.nonce(chunk: index), aad: header.authenticatedData(chunk: index, isFinal: isFinal), into: output)
            else { throw .authenticationFailed(chunk: index) }
            return length
        }
    }

    /// One OpenSSL AES-256-GCM context, keyed once and given a new nonce per chunk.
    final class Cipher {
        private let context: OpaquePointer
        private let encrypting: Bool

        init(key: [UInt8], encrypting: Bool) throws(AESGCM.Failure) {
            guard key.count == AESGCM.keySize else { throw .badKey }
            guard let context = EVP_CIPHER_CTX_new() else { fatalError("EVP_CIPHER_CTX_new failed") }
            self.context = context
            self.encrypting = encrypting
            var ok = encrypting
                ? EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, nil, nil) == 1
                : EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil, nil, nil) == 1
            ok = ok && EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IVLEN, Int32(AESGCM.nonceSize), nil) == 1
            ok = ok && (encrypting
                ? EVP_EncryptInit_ex(context, nil, nil, key, nil) == 1
                : EVP_DecryptInit_ex(context, nil, nil, key, nil) == 1)
            precondition(ok, "OpenSSL AES-GCM set-up failed")
        }

        deinit { EVP_CIPHER_CTX_free(context) }

        /// Appends the ciphertext of `plaintext` and then its tag to `output`.
        func seal(_ plaintext: UnsafeRawBufferPointer, nonce: [UInt8], aad: [UInt8], appendingTo output: inout [UInt8]) {
            let start = output.count
            output.append(contentsOf: repeatElement(0, count: plaintext.count + ChunkedSeal.tagSize))
            var length: Int32 = 0
            var ok = EVP_EncryptInit_ex(context, nil, nil, nil, nonce) == 1
            ok = ok && EVP_EncryptUpdate(context, nil, &length, aad, Int32(aad.count)) == 1
            ok = ok && output.withUnsafeMutableBufferPointer { buffer in
                let out = buffer.baseAddress! + start
                var written: Int32 = 0
                if !plaintext.isEmpty {
                    let input = plaintext.baseAddress!.assumingMemoryBound(to: UInt8.self)
                    guard EVP_EncryptUpdate(context, out, &written, input, Int32(plaintext.count)) == 1 else { return false }
                }
                var tail: Int32 = 0
                guard EVP_EncryptFinal_ex(context, out + Int(written), &tail) == 1, Int(written + tail) == plaintext.count
                else { return false }
                return EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(ChunkedSeal.tagSize), out + plaintext.count) == 1
            }
            precondition(ok, "OpenSSL AES-GCM encryption failed")
        }

        /// The plaintext, or nil if the tag does not authenticate the ciphertext, nonce and aad.
        func open(_ sealed: UnsafeRawBufferPointer, nonce: [UInt8], aad: [UInt8]) -> [UInt8]? {
            let count = sealed.count - ChunkedSeal.tagSize
            // One spare byte, so that the output pointer is never nil (an empty chunk still has a final step).
            var plaintext = [UInt8](repeating: 0, count: count + 1)
            guard plaintext.withUnsafeMutableBytes({ open(sealed, nonce: nonce, aad: aad, into: $0) }) else { return nil }
            plaintext.removeLast()
            return plaintext
        }

        /// Decrypts into `output` (at least one byte longer than the plaintext); whether the tag authenticated it.
        /// On failure `output` holds unauthenticated bytes, which the caller must not use.
        func open(_ sealed: UnsafeRawBufferPointer, nonce: [UInt8], aad: [UInt8], into output: UnsafeMutableRawBufferPointer) -> Bool {
            let count = sealed.count - ChunkedSeal.tagSize
            var tag = Array(sealed[count...])
            var length: Int32 = 0
            var ok = EVP_DecryptInit_ex(context, nil, nil, nil, nonce) == 1
            ok = ok && EVP_DecryptUpdate(context, nil, &length, aad, Int32(aad.count)) == 1
            guard ok, let out = output.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return false }
            var written: Int32 = 0
            if count > 0 {
                let input = sealed.baseAddress!.assumingMemoryBound(to: UInt8.self)
                guard EVP_DecryptUpdate(context, out, &written, input, Int32(count)) == 1 else { return false }
            }
            guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(ChunkedSeal.tagSize), &tag) == 1 else { return false }
            var tail: Int32 = 0
            return EVP_DecryptFinal_ex(context, out + Int(written), &tail) == 1
        }
    }
}
