// Measures each digest's single-core throughput, AES-256-GCM sealing and opening in 64 KiB chunks (encryption at
// rest), and the CRC fold of a 10,000-part upload.
// `swift build -c release --product digest-bench && .build/release/digest-bench [MiB]`; figures go in closing notes.
import Digest
import Foundation

let mebibytes = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 256
var generator = SystemRandomNumberGenerator()
let data = (0..<(mebibytes << 20) / 8).flatMap { _ in withUnsafeBytes(of: generator.next() as UInt64) { Array($0) } }

func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

print("digest      GB/s   (\(mebibytes) MiB, best of 3, one core)")
for algorithm in ["MD5"] + ChecksumAlgorithm.allCases.map(\.rawValue) {
    var best = Double.infinity
    for _ in 0..<3 {
        best = min(best, seconds {
            data.withUnsafeBytes { bytes in
                // 1 MiB updates, as an upload feeds them.
                var offset = 0
                if algorithm == "MD5" {
                    var digest = MD5()
                    while offset < bytes.count {
                        digest.update(UnsafeRawBufferPointer(rebasing: bytes[offset..<min(offset + (1 << 20), bytes.count)]))
                        offset += 1 << 20
                    }
                    _ = digest.finalize()
                } else {
                    var digest = ChecksumAlgorithm(rawValue: algorithm)!.makeDigest()
                    while offset < bytes.count {
                        digest.update(UnsafeRawBufferPointer(rebasing: bytes[offset..<min(offset + (1 << 20), bytes.count)]))
                        offset += 1 << 20
                    }
                    _ = digest.finalize()
                }
            }
        })
    }
    print(algorithm.padding(toLength: 10, withPad: " ", startingAt: 0), String(format: "%6.2f", Double(data.count) / best / 1e9))
}

// Encryption at rest: sealing and opening in 64 KiB chunks (ChunkedSeal), fed in 1 MiB updates.
let key = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
var sealedPieces: [[UInt8]] = []
var bestSeal = Double.infinity
for _ in 0..<3 {
    bestSeal = min(bestSeal, seconds {
        var sealer = try! ChunkedSeal.Sealer(key: key)
        var pieces: [[UInt8]] = []
        data.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                pieces.append(sealer.update(UnsafeRawBufferPointer(rebasing: bytes[offset..<min(offset + (1 << 20), bytes.count)])))
                offset += 1 << 20
            }
        }
        pieces.append(sealer.finish())
        sealedPieces = pieces
    })
}
print("AES-GCM seal".padding(toLength: 10, withPad: " ", startingAt: 0), String(format: "%6.2f", Double(data.count) / bestSeal / 1e9))
var sealed: [UInt8] = []
for piece in sealedPieces { sealed += piece }
let header = try! ChunkedSeal.Header(parsing: sealed)
let plan = header.plan(plaintext: 0..<Int64(data.count), plaintextSize: Int64(data.count))
var bestOpen = Double.infinity
for _ in 0..<3 {
    bestOpen = min(bestOpen, seconds {
        let opener = try! ChunkedSeal.Opener(key: key, header: header)
        sealed.withUnsafeBytes { bytes in
            var offset = ChunkedSeal.headerSize
            for index in plan.chunks {
                let end = min(offset + header.chunkSize + ChunkedSeal.tagSize, bytes.count)
                _ = try! opener.open(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]), chunk: index, isFinal: index == plan.finalChunk)
                offset = end
            }
        }
    })
}
print("AES-GCM open".padding(toLength: 10, withPad: " ", startingAt: 0), String(format: "%6.2f", Double(data.count) / bestOpen / 1e9))

let parts = (0..<10_000).map { _ in (digest: [UInt8](repeating: 7, count: 8), length: Int64(8 << 20)) }
for algorithm in [ChecksumAlgorithm.crc32, .crc32c, .crc64nvme] {
    let input = parts.map { (digest: Array($0.digest.prefix(algorithm.digestLength)), length: $0.length) }
    let time = seconds { _ = algorithm.combineFullObject(input) }
    print("fold of 10,000 \(algorithm.rawValue) part checksums: \(String(format: "%.2f", time * 1000)) ms")
}
