import Digest
import Foundation
import NIOCore
import ObjectStore
import Synchronization
import Testing

@testable import S3API
@testable import S3Wire

/// The sealed bytes a ``SealingBlobWriter`` hands to the store, kept in memory.
private final class CapturingWriter: BlobWriter {
    let bytes = Mutex<[UInt8]>([])
    func write(_ buffer: ByteBuffer) async throws { bytes.withLock { $0 += buffer.readableBytesView } }
    func commit() async throws -> BlobID { BlobID("sealed") }
    func abort() async {}
}

private struct BytesReader: BlobReader {
    let bytes: [UInt8]
    var size: Int64 { Int64(bytes.count) }
    func read(offset: Int64, maxLength: Int) async throws -> ByteBuffer {
        let start = Int(min(offset, size))
        // Short reads, as a file may give: the unsealer must keep reading.
        return ByteBuffer(bytes: bytes[start..<min(bytes.count, start + min(maxLength, 50_000))])
    }
    func close() async {}
}

private final class MemoryKMSIndex: KMSKeyIndex {
    let keys = Mutex<[KMSKey]>([])
    func createKMSKey(_ key: KMSKey) async throws { keys.withLock { $0.append(key) } }
    func kmsKeys() async throws -> [KMSKey] { keys.withLock { $0 } }
    func kmsKey(id: String) async throws -> KMSKey? { keys.withLock { $0.first { $0.id == id } } }
    func kmsKey(named name: String, accountID: String) async throws -> KMSKey? {
        keys.withLock {
            $0.first { $0.accountID == accountID && ($0.id == name || "alias/" + ($0.alias ?? "") == name || $0.alias == name) }
        }
    }
    func resealKMSKeys(_ materials: [String: [UInt8]]) async throws {}
}

@Suite("Sealed blobs: what the writer stores and what the unsealer returns")
struct SealedBlobTests {
    static let keyring = Keyring(
        masterKey: MasterKey(bytes: [UInt8](repeating: 5, count: 32)), keys: MemoryKMSIndex(), region: "us-east-1",
        accountID: "123456789012")
    static let customer = [UInt8](repeating: 0x33, count: 32)

    static func plaintext(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ $0 >> 9) } }

    /// Seals `data` fed in `piece`-byte writes, the last piece given to the commit.
    static func seal(_ data: [UInt8], _ wrapping: Keyring.Wrapping, piece: Int) async throws -> [UInt8] {
        let inner = CapturingWriter()
        let (dataKey, envelope) = try keyring.newDataKey(wrapping)
        let writer = try SealingBlobWriter(inner, dataKey: dataKey, envelope: envelope)
        var offset = 0
        while data.count - offset > piece {
            try await writer.write(ByteBuffer(bytes: data[offset..<(offset + piece)]))
            offset += piece
        }
        _ = try await writer.commit(appending: ByteBuffer(bytes: data[offset...]))
        return inner.bytes.withLock { $0 }
    }

    static func read(_ sealed: [UInt8], _ range: Range<Int64>, customerKey: [UInt8]? = nil) async throws -> [UInt8] {
        var out: [UInt8] = []
        try await KeyringUnsealer(keyring: keyring, customerKey: customerKey)
            .read(BytesReader(bytes: sealed), plaintext: range, chunkSize: 200_000) { out += $0.readableBytesView }
        return out
    }

    struct RangeCase: CustomTestStringConvertible, Sendable {
        let name: String
        let size: Int
        let range: Range<Int64>
        var testDescription: String { name }
    }

    @Test(arguments: [
        RangeCase(name: "empty object", size: 0, range: 0..<0),
        RangeCase(name: "whole small object", size: 100, range: 0..<100),
        RangeCase(name: "whole, several chunks, several reads", size: 700_000, range: 0..<700_000),
        RangeCase(name: "a range across a chunk boundary", size: 300_000, range: 65_530..<65_546),
        RangeCase(name: "the last byte", size: 300_000, range: 299_999..<300_000),
        RangeCase(name: "a middle megabyte", size: 3_000_000, range: 1_000_000..<2_048_576),
    ])
    func roundTrip(_ test: RangeCase) async throws {
        let data = Self.plaintext(test.size)
        let sealed = try await Self.seal(data, .master, piece: 100_003)
        #expect(sealed.count == KeyEnvelope.size + Int(ChunkedSeal.Header().sealedSize(plaintextSize: Int64(test.size))))
        let got = try await Self.read(sealed, test.range)
        #expect(got == Array(data[Int(test.range.lowerBound)..<Int(test.range.upperBound)]))
    }

    @Test("a customer-sealed blob opens with its key alone; without one it is InvalidRequest, with another AccessDenied")
    func customerKeys() async throws {
        let data = Self.plaintext(5_000)
        let sealed = try await Self.seal(data, .customer(Self.customer), piece: 1_000)
        #expect(try await Self.read(sealed, 0..<5_000, customerKey: Self.customer) == data)
        await #expect(throws: S3Error.self) { try await Self.read(sealed, 0..<5_000) }
        do {
            _ = try await Self.read(sealed, 0..<5_000, customerKey: [UInt8](repeating: 1, count: 32))
            Issue.record("opened under another key")
        } catch let error as S3Error {
            #expect(error.code == .accessDenied)
        }
    }

    @Test("a KMS-sealed blob names its key and opens through the key service")
    func kmsKeys() async throws {
        let key = try await Self.keyring.createKey(alias: "unit", description: "", accountID: "123456789012")
        let resolved = try await Self.keyring.resolve(Self.keyring.arn(of: key), account: "123456789012")
        #expect(resolved.id == key.id)
        let sealed = try await Self.seal(Self.plaintext(1_000), .kms(key), piece: 10)
        #expect(try KeyEnvelope(parsing: sealed).wrapping == .kms)
        #expect(try await Self.read(sealed, 10..<20) == Array(Self.plaintext(1_000)[10..<20]))
        await #expect(throws: S3Error.self) { try await Self.keyring.resolve("arn:aws:kms:eu-west-1:123456789012:key/\(key.id)", account: "123456789012") }
    }

    struct Tamper: CustomTestStringConvertible, Sendable {
        let name: String
        let change: @Sendable ([UInt8]) -> [UInt8]
        var testDescription: String { name }
    }

    @Test(arguments: [
        Tamper(name: "a flipped ciphertext bit") { var b = $0; b[KeyEnvelope.size + 100] ^= 1; return b },
        Tamper(name: "a flipped envelope bit") { var b = $0; b[40] ^= 1; return b },
        Tamper(name: "cut at a chunk boundary") { Array($0.prefix(KeyEnvelope.size + ChunkedSeal.headerSize + 65_536 + 16)) },
        Tamper(name: "a byte appended") { $0 + [0] },
    ])
    func tampering(_ tamper: Tamper) async throws {
        let sealed = tamper.change(try await Self.seal(Self.plaintext(200_000), .master, piece: 70_000))
        do {
            _ = try await Self.read(sealed, 0..<100)
            _ = try await Self.read(sealed, 0..<200_000)
            Issue.record("a tampered blob was read")
        } catch let error as StoreError {
            guard case .integrityFailure = error else { Issue.record("\(error)"); return }
        }
    }
}
