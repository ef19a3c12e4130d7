import Digest
import Foundation
import NIOCore
import ObjectStore

/// Verifies one stored record against its blobs, for `martlet admin check`: every blob is there and long
/// enough, the bytes read back are as many as the record says, and their digest is the one it was stored with.
///
/// - Plain and SSE-S3 objects: the MD5 of the bytes is the ETag (for a multipart object, the MD5 of the parts'
///   MD5s, split at the recorded part sizes).
/// - SSE-KMS: the ETag is not the plaintext's MD5, but every 64 KiB chunk is authenticated (AES-GCM) as it is
///   read, so a changed byte fails the read.
/// - SSE-C: the key is the customer's and never stored, so only the blobs' structure and sizes can be checked.
public struct IntegrityCheck: Sendable {
    let storage: Storage
    let keyring: Keyring

    public init(storage: Storage, keyring: Keyring) {
        self.storage = storage
        self.keyring = keyring
    }

    /// Nil when the record is sound, else what is wrong.
    public func problem(with record: ObjectRecord) async -> String? {
        do {
            if record.metadata.encryption?.mode == .customer { return try await structuralProblem(record) }
            return try await readingProblem(record)
        } catch StoreError.blobMissing(let blob) {
            return "blob \(blob.rawValue) is missing"
        } catch StoreError.integrityFailure(let reason) {
            return "its sealed bytes fail authentication (\(reason))"
        } catch {
            return "it cannot be read: \(error)"
        }
    }

    private func readingProblem(_ record: ObjectRecord) async throws -> String? {
        let (_, reader) = try await storage.open { record }
        defer { Task { await reader.close() } }
        let sealed = record.metadata.encryption != nil
        var whole = MD5()
        var partDigests: [UInt8] = []
        var part = MD5()
        let partSizes = record.parts.map(\.size)
        var partIndex = 0
        var leftInPart = partSizes.first ?? 0
        var count: Int64 = 0
        try await reader.read(
            range: 0..<record.size, chunkSize: 1 << 20, unsealer: sealed ? KeyringUnsealer(keyring: keyring, customerKey: nil) : nil
        ) { buffer in
            buffer.withUnsafeReadableBytes { bytes in
                whole.update(bytes)
                var rest = UnsafeRawBufferPointer(rebasing: bytes[...])
                // Split at the part boundaries for a multipart ETag.
                while !rest.isEmpty, partIndex < partSizes.count {
                    let take = Int(min(Int64(rest.count), leftInPart))
                    part.update(UnsafeRawBufferPointer(rebasing: rest[..<take]))
                    rest = UnsafeRawBufferPointer(rebasing: rest[take...])
                    leftInPart -= Int64(take)
                    if leftInPart == 0 {
                        partDigests += part.finalize()
                        part = MD5()
                        partIndex += 1
                        leftInPart = partIndex < partSizes.count ? partSizes[partIndex] : 0
                    }
                }
            }
            count += Int64(buffer.readableBytes)
        }
        if count != record.size { return "it reads back \(count) bytes, not \(record.size)" }
        // SSE-KMS ETags are not the plaintext's MD5; GCM authenticated every chunk read above instead.
        if let mode = record.metadata.encryption?.mode, mode != .s3 { return nil }
        let etag = record.etag.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        if let dash = etag.firstIndex(of: "-") {
            guard !record.parts.isEmpty else { return nil }
            var composite = MD5()
            partDigests.withUnsafeBytes { composite.update($0) }
            let expected = String(etag[..<dash])
            let actual = composite.finalize().hexString
            return actual == expected ? nil : "its parts' digests are \(actual)-\(record.parts.count), not the ETag \(etag)"
        }
        let actual = whole.finalize().hexString
        guard etag.count == 32 else { return nil }
        return actual == etag ? nil : "its bytes' MD5 is \(actual), not the ETag \(etag)"
    }

    private func structuralProblem(_ record: ObjectRecord) async throws -> String? {
        var total: Int64 = 0
        for segment in record.segments {
            let blob = try await storage.blobs.openReader(segment.blobID)
            defer { Task { await blob.close() } }
            let plaintext = try await KeyringUnsealer.plaintextSize(of: blob)
            if segment.offset + segment.size > plaintext {
                return "blob \(segment.blobID.rawValue) holds \(plaintext) bytes, fewer than its record needs"
            }
            total += segment.size
        }
        return total == record.size ? nil : "its segments hold \(total) bytes, not \(record.size)"
    }
}
