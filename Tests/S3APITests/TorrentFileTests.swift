import Digest
import Testing

@testable import S3Wire

@Suite("BitTorrent metainfo")
struct TorrentFileTests {
    static func torrent(_ bytes: [UInt8], chunks: Int) -> [UInt8] {
        var file = TorrentFile()
        let size = max(1, (bytes.count + chunks - 1) / chunks)
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + size)
            bytes[start..<end].withUnsafeBytes { file.update($0) }
            start = end
        }
        return file.finish(name: "movie.mpg", webSeed: "http://h/b/movie.mpg")
    }

    static func sha1(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var digest = SHA1()
        digest.update(bytes)
        return digest.finalize()
    }

    @Test("pieces are the SHA-1 of each 256 KiB, however the bytes arrive, in a bencoded dictionary with sorted keys")
    func encodes() {
        let piece = TorrentFile.pieceLength
        let data = (0..<(2 * piece + 100)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let pieces = Self.sha1(data[0..<piece]) + Self.sha1(data[piece..<2 * piece]) + Self.sha1(data[(2 * piece)...])
        let expected = Array("d4:infod6:lengthi\(data.count)e4:name9:movie.mpg12:piece lengthi262144e6:pieces60:".utf8)
            + pieces + Array("e8:url-list20:http://h/b/movie.mpge".utf8)
        for chunks in [1, 3, 1000] {
            #expect(Self.torrent(data, chunks: chunks) == expected, "in \(chunks) chunks")
        }
    }

    @Test("an empty object has no pieces")
    func empty() {
        #expect(Self.torrent([], chunks: 1) == Array(
            "d4:infod6:lengthi0e4:name9:movie.mpg12:piece lengthi262144e6:pieces0:e8:url-list20:http://h/b/movie.mpge".utf8))
    }
}
